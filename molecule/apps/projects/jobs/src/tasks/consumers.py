import socket

from asgiref.sync import async_to_sync
from channels.consumer import SyncConsumer
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from tasks.models import Job


class JobsSocket(AsyncJsonWebsocketConsumer):
    """Submit a job; hear when any job is done."""

    async def connect(self):
        await self.channel_layer.group_add("jobs", self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard("jobs", self.channel_name)

    async def receive_json(self, content):
        job = await database_sync_to_async(Job.objects.create)(name=content["job"])
        await self.send_json({"id": job.id, "status": job.status})
        await self.channel_layer.send("thumbnails", {"type": "job.run", "id": job.id})

    async def job_done(self, event):
        await self.send_json({"id": event["id"], "status": "done", "done_by": event["done_by"]})


class ThumbnailWorker(SyncConsumer):
    """Run by `manage.py runworker thumbnails`."""

    def job_run(self, message):
        Job.objects.filter(id=message["id"]).update(status="done", done_by=socket.gethostname())
        async_to_sync(self.channel_layer.group_send)(
            "jobs", {"type": "job.done", "id": message["id"], "done_by": socket.gethostname()}
        )
