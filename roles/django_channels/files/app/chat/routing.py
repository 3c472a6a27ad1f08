from django.urls import re_path

from .consumers import ChatConsumer
from .models import ROOM_NAME_PATTERN

websocket_urlpatterns = [
    re_path(rf"^ws/chat/(?P<room_name>{ROOM_NAME_PATTERN})/$", ChatConsumer.as_asgi()),
]
