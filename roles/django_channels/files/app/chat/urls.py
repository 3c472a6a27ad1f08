from django.urls import path, re_path

from . import views
from .models import ROOM_NAME_PATTERN

urlpatterns = [
    path("", views.index, name="index"),
    path("chat/", views.open_room, name="open_room"),
    re_path(rf"^chat/(?P<room_name>{ROOM_NAME_PATTERN})/$", views.room, name="room"),
    re_path(rf"^chat/(?P<room_name>{ROOM_NAME_PATTERN})/messages/$", views.messages_after, name="messages"),
]
