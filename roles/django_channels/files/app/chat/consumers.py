"""The chat WebSocket: every JSON {"message": text, "name": display name, "nonce": the client's id of
it} is stored with the room's next number and sent to the whole room as {"id", "seq", "message",
"name", "nonce", "created"}. A client that was away, or sees a number skipped, asks the page's
messages URL for what came after the last number it holds in order, and sends again what it never
saw come back: a nonce already stored is sent again as stored, not stored twice."""

import contextlib
import hashlib
import json
import os
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.db import IntegrityError, connections, transaction
from django.db.models import F
from django.utils import timezone

from .models import AUTHOR_MAX_LENGTH, NONCE_MAX_LENGTH, Message, Room

MAX_MESSAGE_LENGTH = 4000
T = TypeVar("T")
# The consumers' own thread pool, each thread with a persistent connection where the settings have
# one (MySQL, the "consumers" alias): Channels' default, one thread a process shared by every
# socket and a connection opened for each message, made each socket wait for all the others.
DATABASE = "consumers" if "consumers" in settings.DATABASES else "default"
# SQLite (the tests, a laptop) takes one writer at a time.
SQLITE = settings.DATABASES[DATABASE]["ENGINE"].endswith("sqlite3")
EXECUTOR = ThreadPoolExecutor(
    max_workers=1 if SQLITE else int(os.environ.get("CHAT_DB_THREADS", "4")), thread_name_prefix="chat-db"
)


def in_pool(func: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    return database_sync_to_async(func, thread_sensitive=False, executor=EXECUTOR)


@in_pool
def _get_or_create_room(room_name: str) -> int:
    return Room.objects.using(DATABASE).get_or_create(name=room_name)[0].pk


# Room ids by name, for the whole process: most sockets send a few messages, and the first of each
# no longer waits for a lookup. The app deletes no room; an entry whose room was deleted by hand is
# dropped when a message to it fails. Bounded, as anyone can name a room.
ROOM_IDS: dict[str, int] = {}
ROOM_IDS_MAX = 10_000


async def room_id(room_name: str) -> int:
    pk = ROOM_IDS.get(room_name)
    if pk is None:
        pk = await _get_or_create_room(room_name)
        if len(ROOM_IDS) >= ROOM_IDS_MAX:
            ROOM_IDS.clear()
        ROOM_IDS[room_name] = pk
    return pk


def _one_trip() -> bool:
    """Whether the consumers' connection takes several statements at once (MySQL, the settings'
    "consumers" alias)."""
    database = settings.DATABASES[DATABASE]
    if not database["ENGINE"].endswith("mysql"):
        return False
    from MySQLdb.constants.CLIENT import MULTI_STATEMENTS  # PyMySQL's, or mysqlclient's

    return bool(database.get("OPTIONS", {}).get("client_flag", 0) & MULTI_STATEMENTS)


# MySQL stores a message in one round trip after the health check's ping: the room's next number
# taken under its row lock (handed back as the UPDATE's insert id by LAST_INSERT_ID(expr)), the
# row, the commit. The ORM's transaction took six after the ping (autocommit off, UPDATE, SELECT,
# INSERT, COMMIT, autocommit on), each waiting its turn for the process's GIL and event loop.
ONE_TRIP = _one_trip()
STORE_SQL = (
    "START TRANSACTION;"
    f"UPDATE {Room._meta.db_table} SET last_seq = LAST_INSERT_ID(last_seq + 1) WHERE id = %(room_id)s;"
    f"INSERT INTO {Message._meta.db_table} (room_id, text, author, nonce, seq, created)"
    " VALUES (%(room_id)s, %(text)s, %(author)s, %(nonce)s, LAST_INSERT_ID(), %(created)s);"
    "COMMIT"
)


def _store_one_trip(room: int, text: str, author: str, nonce: str | None) -> Message:
    connection = connections[DATABASE]
    values = {"room_id": room, "text": text, "author": author, "nonce": nonce, "created": timezone.now()}
    with connection.wrap_database_errors, connection.cursor() as cursor:
        try:
            cursor.execute(
                STORE_SQL, {**values, "created": connection.ops.adapt_datetimefield_value(values["created"])}
            )
            results = cursor.cursor  # the driver's, with one result a statement
            results.nextset()
            seq = results.lastrowid
            results.nextset()
            pk = results.lastrowid
            results.nextset()
        except Exception:
            # A failed statement ends the batch, not the transaction it opened.
            with contextlib.suppress(Exception):
                cursor.execute("ROLLBACK")
            raise
    return Message(pk=pk, seq=seq, **values)


def _store_in_transaction(room: int, text: str, author: str, nonce: str | None) -> Message:
    rooms = Room.objects.using(DATABASE).filter(pk=room)
    with transaction.atomic(using=DATABASE):
        rooms.update(last_seq=F("last_seq") + 1)  # the room's row lock, until the commit
        seq = rooms.values_list("last_seq", flat=True).get()
        return Message.objects.using(DATABASE).create(
            room_id=room, text=text, author=author, nonce=nonce, seq=seq
        )


@in_pool
def store_message(room: int, text: str, author: str, nonce: str | None) -> dict[str, object]:
    """The message stored with the room's next number, or the one stored already with its nonce."""
    try:
        return (_store_one_trip if ONE_TRIP else _store_in_transaction)(room, text, author, nonce).as_event()
    except IntegrityError:  # sent again: the number taken is given back with the rollback
        if nonce is None:
            raise
        return Message.objects.using(DATABASE).get(room_id=room, nonce=nonce).as_event()


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
        # queries only from its own pool, whose threads close theirs (database_sync_to_async), so
        # the hop bought nothing and made every delivery of the process wait its turn for it.
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
