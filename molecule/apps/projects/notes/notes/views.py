from django.shortcuts import render

from notes.models import Note


def board(request):
    return render(request, "notes.html", {"notes": Note.objects.order_by("-id")[:50]})
