import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jobs.settings")
django_app = get_asgi_application()

from channels.routing import ChannelNameRouter, ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from tasks.consumers import JobsSocket, ThumbnailWorker  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_app,
        "websocket": URLRouter([path("ws/jobs/", JobsSocket.as_asgi())]),
        "channel": ChannelNameRouter({"thumbnails": ThumbnailWorker.as_asgi()}),
    }
)
