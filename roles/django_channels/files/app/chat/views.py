from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .models import Message, Room

HISTORY_LENGTH = 50


def index(request: HttpRequest) -> HttpResponse:
    return render(request, "chat/index.html", {"rooms": Room.objects.order_by("name")})


def room(request: HttpRequest, room_name: str) -> HttpResponse:
    latest = Message.objects.filter(room__name=room_name).order_by("-created", "-id")[:HISTORY_LENGTH]
    return render(
        request,
        "chat/room.html",
        {"room_name": room_name, "messages": list(reversed(latest))},
    )
