from django.db import models

ROOM_NAME_PATTERN = r"[-\w]{1,64}"
AUTHOR_MAX_LENGTH = 64
NONCE_MAX_LENGTH = 64


class Room(models.Model):
    name = models.CharField(max_length=64, unique=True)
    # The number of the room's last message: each message takes the next, under the room's row lock.
    last_seq = models.PositiveBigIntegerField(default=0, db_default=0)
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
    # 1, 2, 3, ... within the room, without gaps: a client that holds 7 and gets 9 knows it missed
    # one, and catches up after the last it holds in order, however late 8 arrives. NULL for rows
    # a replica of the previous release wrote during a roll.
    seq = models.PositiveBigIntegerField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created", "id"]
        constraints = [
            models.UniqueConstraint(fields=["room", "nonce"], name="chat_message_room_nonce"),
            models.UniqueConstraint(fields=["room", "seq"], name="chat_message_room_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.room}: {self.text[:40]}"

    def as_event(self) -> dict[str, object]:
        """The message as the page and the WebSocket clients get it, live or caught up."""
        return {
            "id": self.pk,
            "seq": self.seq,
            "message": self.text,
            "name": self.author,
            "nonce": self.nonce or "",
            "created": self.created.isoformat(),
        }
