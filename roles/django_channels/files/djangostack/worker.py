"""gunicorn's worker class for the uvicorn server (uvicorn_worker.UvicornWorker) with the
WebSocket settings the role gives the plain uvicorn server on its command line, which gunicorn has
no option for: per-message deflate from DJANGOSTACK_WS_PER_MESSAGE_DEFLATE (true or false)."""

import os

from uvicorn_worker import UvicornWorker as _UvicornWorker


class UvicornWorker(_UvicornWorker):
    CONFIG_KWARGS = {
        **_UvicornWorker.CONFIG_KWARGS,
        "ws_per_message_deflate": os.environ.get("DJANGOSTACK_WS_PER_MESSAGE_DEFLATE", "false") == "true",
    }
