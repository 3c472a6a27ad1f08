from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from posts.models import Post


class PostsConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        await self.channel_layer.group_add("posts", self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard("posts", self.channel_name)

    async def receive_json(self, content):
        post = await database_sync_to_async(Post.objects.create)(text=content["text"])
        await self.channel_layer.group_send("posts", {"type": "post.created", "id": post.id, "text": post.text})

    async def post_created(self, event):
        await self.send_json({"id": event["id"], "text": event["text"]})
