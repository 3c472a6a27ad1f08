import re

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from .models import ROOM_NAME_PATTERN, Message, Room

HISTORY_LENGTH = 50
CATCH_UP_LENGTH = 500


# The form's pattern attribute: browsers compile it with the v flag, where a bare "-" in a class
# is a syntax error; \p{L}/\p{N} accept the letters Python's \w does.
ROOM_INPUT_PATTERN = r"[\-_\p{L}\p{N}]{1,64}"


def index(request: HttpRequest, error: str = "", value: str = "", status: int = 200) -> HttpResponse:
    context = {
        "rooms": Room.objects.order_by("name"),
        "room_pattern": ROOM_INPUT_PATTERN,
        "room_value": value,
        "error": error,
    }
    return render(request, "chat/index.html", context, status=status)


def open_room(request: HttpRequest) -> HttpResponse:
    """The index page's form: to the room's page, or back to the form saying what is allowed."""
    name = request.GET.get("room", "").strip()
    if re.fullmatch(ROOM_NAME_PATTERN, name):
        return redirect("room", room_name=name)
    error = "A room name is 1 to 64 letters, digits, - or _."
    return index(request, error=error, value=name[:64], status=400)


def room(request: HttpRequest, room_name: str) -> HttpResponse:
    latest = Message.objects.filter(room__name=room_name).order_by("-created", "-id")[:HISTORY_LENGTH]
    return render(
        request,
        "chat/room.html",
        {"room_name": room_name, "messages": list(reversed(latest))},
    )


def messages_after(request: HttpRequest, room_name: str) -> JsonResponse:
    """What a client missed: the room's messages numbered after ?after=N (the last number it holds
    in order), in order, as the WebSocket sends them; "more" when there are more than one answer holds."""
    after = request.GET.get("after", "0")
    if not after.isdigit():
        return JsonResponse(
            {"error": "after: the number (seq) of the last message held (0 or more)"}, status=400
        )
    found = list(
        Message.objects.filter(room__name=room_name, seq__gt=int(after)).order_by("seq")[
            : CATCH_UP_LENGTH + 1
        ]
    )
    response = JsonResponse(
        {
            "messages": [message.as_event() for message in found[:CATCH_UP_LENGTH]],
            "more": len(found) > CATCH_UP_LENGTH,
        }
    )
    response["Cache-Control"] = "no-store"
    return response
