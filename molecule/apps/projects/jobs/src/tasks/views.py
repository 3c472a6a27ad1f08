from django.http import HttpResponse

from tasks.models import Job


def status(request):
    lines = [f"{job.id} {job.name} {job.status}" for job in Job.objects.order_by("-id")[:20]]
    return HttpResponse("jobs\n" + "\n".join(lines), content_type="text/plain")
