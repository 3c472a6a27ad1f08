from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from posts.models import Post


def index(request):
    visits = cache.get_or_set("visits", 0)
    cache.incr("visits")
    return render(request, "posts/index.html", {"posts": Post.objects.order_by("-id")[:30], "visits": visits + 1})


@csrf_exempt
def upload(request):
    name = default_storage.save(request.GET.get("name", "upload.txt"), ContentFile(request.body))
    return JsonResponse({"url": default_storage.url(name)})
