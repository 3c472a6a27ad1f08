"""The chat WebSocket: every JSON {"message": text, "name": display name, "nonce": the client's id of
it} is stored and sent to the whole room as {"id", "message", "name", "nonce", "created"}. A client
that was away asks the page's messages URL for what came after the last id it saw, and sends again
what it never saw come back: a nonce already stored is sent again as stored, not stored twice."""

import hashlib
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.db import IntegrityError

from .models import AUTHOR_MAX_LENGTH, NONCE_MAX_LENGTH, Message, Room

MAX_MESSAGE_LENGTH = 4000


@database_sync_to_async
def room_id(room_name: str) -> int:
    return Room.objects.get_or_create(name=room_name)[0].pk


@database_sync_to_async
def store_message(room: int, text: str, author: str, nonce: str | None) -> dict[str, object]:
    try:
        return Message.objects.create(room_id=room, text=text, author=author, nonce=nonce).as_event()
    except IntegrityError:
        if nonce is None:
            raise
        return Message.objects.get(room_id=room, nonce=nonce).as_event()


class ChatConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        self.room_name: str = self.scope["url_route"]["kwargs"]["room_name"]
        self.room: int | None = None  # looked up (or created) once, with the socket's first message
        # Channels' group names are ASCII: a room named in another script gets its name's digest.
        self.group_name = (
            f"chat.{self.room_name}"
            if self.room_name.isascii()
            else f"chat.u.{hashlib.sha256(self.room_name.encode()).hexdigest()[:40]}"
        )
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.group_name, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        text = content.get("message") if isinstance(content, dict) else None
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_MESSAGE_LENGTH:
            await self.send_json(
                {"error": f"send {{'message': text}} with 1 to {MAX_MESSAGE_LENGTH} characters"}
            )
            return
        name = content.get("name")
        author = name.strip()[:AUTHOR_MAX_LENGTH] if isinstance(name, str) else ""
        nonce = content.get("nonce")
        if not isinstance(nonce, str) or not 0 < len(nonce) <= NONCE_MAX_LENGTH:
            nonce = None
        if self.room is None:
            self.room = await room_id(self.room_name)
        event = await store_message(self.room, text, author, nonce)
        await self.channel_layer.group_send(self.group_name, {"type": "chat.message", **event})

    async def chat_message(self, event: dict[str, Any]) -> None:
        await self.send_json({key: value for key, value in event.items() if key != "type"})
