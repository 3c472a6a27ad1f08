"""The chat WebSocket: every JSON {"message": text} is stored and sent to the whole room."""

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .models import Message, Room

MAX_MESSAGE_LENGTH = 4000


@database_sync_to_async
def store_message(room_name: str, text: str) -> Message:
    room, _created = Room.objects.get_or_create(name=room_name)
    return Message.objects.create(room=room, text=text)


class ChatConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        self.room_name: str = self.scope["url_route"]["kwargs"]["room_name"]
        self.group_name = f"chat.{self.room_name}"
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
        message = await store_message(self.room_name, text)
        await self.channel_layer.group_send(
            self.group_name,
            {
                "type": "chat.message",
                "id": message.pk,
                "message": message.text,
                "created": message.created.isoformat(),
            },
        )

    async def chat_message(self, event: dict[str, Any]) -> None:
        await self.send_json({"id": event["id"], "message": event["message"], "created": event["created"]})
