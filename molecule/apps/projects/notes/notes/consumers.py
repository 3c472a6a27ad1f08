from channels.generic.websocket import JsonWebsocketConsumer
from asgiref.sync import async_to_sync

from notes.models import Note


class NotesConsumer(JsonWebsocketConsumer):
    group = "notes"

    def connect(self):
        async_to_sync(self.channel_layer.group_add)(self.group, self.channel_name)
        self.accept()

    def disconnect(self, code):
        async_to_sync(self.channel_layer.group_discard)(self.group, self.channel_name)

    def receive_json(self, content):
        note = Note.objects.create(body=content["note"])
        async_to_sync(self.channel_layer.group_send)(self.group, {"type": "note.added", "id": note.id, "note": note.body})

    def note_added(self, event):
        self.send_json({"id": event["id"], "note": event["note"]})
