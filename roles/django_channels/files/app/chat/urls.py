from django.urls import path, re_path

from . import views
from .models import ROOM_NAME_PATTERN

urlpatterns = [
    path("", views.index, name="index"),
    re_path(rf"^chat/(?P<room_name>{ROOM_NAME_PATTERN})/$", views.room, name="room"),
]
