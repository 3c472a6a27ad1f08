from django.db import models

ROOM_NAME_PATTERN = r"[-\w]{1,64}"
AUTHOR_MAX_LENGTH = 64
NONCE_MAX_LENGTH = 64


class Room(models.Model):
    name = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Message(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    text = models.TextField()
    # The display name the sender chose; a default in the database too, so that replicas of the
    # previous release, still running during a roll, insert rows without it.
    author = models.CharField(max_length=AUTHOR_MAX_LENGTH, blank=True, default="", db_default="")
    # The sender's own id of the message: a client that sends it again after a reconnect (it never
    # saw it come back) gets the stored one, not a second copy. NULL for clients that send none.
    nonce = models.CharField(max_length=NONCE_MAX_LENGTH, null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created", "id"]
        constraints = [models.UniqueConstraint(fields=["room", "nonce"], name="chat_message_room_nonce")]

    def __str__(self) -> str:
        return f"{self.room}: {self.text[:40]}"

    def as_event(self) -> dict[str, object]:
        """The message as the page and the WebSocket clients get it, live or caught up."""
        return {
            "id": self.pk,
            "message": self.text,
            "name": self.author,
            "nonce": self.nonce or "",
            "created": self.created.isoformat(),
        }
