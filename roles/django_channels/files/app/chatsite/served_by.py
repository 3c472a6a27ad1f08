"""The header that names the serving container and version (the Molecule scenarios use it)."""

import os
import socket
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

HOSTNAME = socket.gethostname()
# The deployed version (the image reference), set by the django_channels role.
VERSION = os.environ.get("DJANGO_APP_VERSION", "unknown")


class ServedByMiddleware:
    """Tell which app container, and which version, served a response (the Molecule scenarios use it)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response["X-Served-By"] = HOSTNAME
        response["X-App-Version"] = VERSION
        return response
