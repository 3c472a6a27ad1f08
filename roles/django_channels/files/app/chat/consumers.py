"""The chat WebSocket: every JSON {"message": text, "name": display name, "nonce": the client's id of
it} is stored with the room's next number and sent to the whole room as {"id", "seq", "message",
"name", "nonce", "created"}. A client that was away, or sees a number skipped, asks the page's
messages URL for what came after the last number it holds in order, and sends again what it never
saw come back: a nonce already stored is sent again as stored, not stored twice."""

import hashlib
import json
from typing import Any

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .models import AUTHOR_MAX_LENGTH, NONCE_MAX_LENGTH
from .store import ROOM_IDS, room_id, store_message

MAX_MESSAGE_LENGTH = 4000


class ChatConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        self.room_name: str = self.scope["url_route"]["kwargs"]["room_name"]
        self.room: int | None = None  # looked up (or created) with the socket's first message
        # Channels' group names are ASCII: a room named in another script gets its name's digest.
        self.group_name = (
            f"chat.{self.room_name}"
            if self.room_name.isascii()
            else f"chat.u.{hashlib.sha256(self.room_name.encode()).hexdigest()[:40]}"
        )
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        await self.accept()

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels' own dispatch first closes the stale connections of the one thread shared by
        # every socket of the process, a hop to it for each message a socket gets. This consumer
        # queries only through chat.store: its pool's threads close theirs (database_sync_to_async)
        # and its batches keep their own connection, so the hop bought nothing and made every
        # delivery of the process wait its turn for it.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

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
        try:
            event = await store_message(self.room, text, author, nonce)
        except Exception:
            ROOM_IDS.pop(self.room_name, None)  # its room deleted, perhaps: looked up again next time
            raise
        # Encoded once for the whole room, not once a reader. The fields stay beside it for the
        # replicas of the previous release that a roll leaves running a while: they send those.
        await self.channel_layer.group_send(
            self.group_name, {"type": "chat.message", **event, "json": json.dumps(event)}
        )

    async def chat_message(self, event: dict[str, Any]) -> None:
        if "json" in event:
            await self.send(text_data=event["json"])
        else:  # from a replica of the release before
            await self.send_json({key: value for key, value in event.items() if key != "type"})
