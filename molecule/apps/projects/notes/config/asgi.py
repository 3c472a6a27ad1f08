import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
http = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from notes.consumers import NotesConsumer  # noqa: E402

application = ProtocolTypeRouter({"http": http, "websocket": URLRouter([path("ws/notes/", NotesConsumer.as_asgi())])})
