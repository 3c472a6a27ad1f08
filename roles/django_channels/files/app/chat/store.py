"""Storing the chat's messages: each takes its room's next number (1, 2, 3, ... without gaps) under
the room's row lock; a nonce already stored in the room gives back the message stored with it.

A server process stores what its sockets receive in batches (group commit): the messages that
arrive while one batch is being stored go together in the next, in one transaction. On MySQL a
batch is one round trip from the event loop (asyncmy); anything that fails there (a nonce sent
again, a room deleted by hand, a restarted MySQL) is stored again one message at a time through
the ORM, which also serves every other database."""

import asyncio
import os
import time
import weakref
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple, TypeVar

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import IntegrityError, connections, transaction
from django.db.models import F
from django.utils import timezone

from .models import Message, Room

T = TypeVar("T")
Event = dict[str, object]

# The ORM's queries run in this pool, each thread with a persistent connection where the settings
# have one (MySQL, the "consumers" alias): Channels' default, one thread a process shared by every
# socket and a connection opened for each message, made each socket wait for all the others.
DATABASE = "consumers" if "consumers" in settings.DATABASES else "default"
SETTINGS = settings.DATABASES[DATABASE]
# SQLite (the tests, a laptop) takes one writer at a time.
SQLITE = SETTINGS["ENGINE"].endswith("sqlite3")
EXECUTOR = ThreadPoolExecutor(
    max_workers=1 if SQLITE else int(os.environ.get("CHAT_DB_THREADS", "4")), thread_name_prefix="chat-db"
)
BATCH_MAX = 100


def in_pool(func: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    return database_sync_to_async(func, thread_sensitive=False, executor=EXECUTOR)


class Incoming(NamedTuple):
    room_id: int
    text: str
    author: str
    nonce: str | None


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


def _store_one(message: Incoming) -> Event:
    try:
        rooms = Room.objects.using(DATABASE).filter(pk=message.room_id)
        with transaction.atomic(using=DATABASE):
            rooms.update(last_seq=F("last_seq") + 1)  # the room's row lock, until the commit
            seq = rooms.values_list("last_seq", flat=True).get()
            return Message.objects.using(DATABASE).create(seq=seq, **message._asdict()).as_event()
    except IntegrityError:  # sent again: the number taken is given back with the rollback
        if message.nonce is None:
            raise
        return Message.objects.using(DATABASE).get(room_id=message.room_id, nonce=message.nonce).as_event()


@in_pool
def _store_each(messages: list[Incoming]) -> list[Event | Exception]:
    results: list[Event | Exception] = []
    for message in messages:
        try:
            results.append(_store_one(message))
        except Exception as error:  # noqa: BLE001 - the message's own socket gets it
            results.append(error)
    return results


# One round trip for a batch: each message's number taken under its room's row lock (handed back
# as the UPDATE's insert id by LAST_INSERT_ID(expr)), its row, one commit for all. The ORM takes
# seven a message (the health check's ping, autocommit off, UPDATE, SELECT, INSERT, COMMIT,
# autocommit on), each a hop to a thread and back that waits its turn for the process's GIL.
STORE_SQL = (
    f"UPDATE {Room._meta.db_table} SET last_seq = LAST_INSERT_ID(last_seq + 1) WHERE id = %s;"
    f"INSERT INTO {Message._meta.db_table} (room_id, text, author, nonce, seq, created)"
    " VALUES (%s, %s, %s, %s, LAST_INSERT_ID(), %s);"
)


def _async_driver() -> Any:
    if not SETTINGS["ENGINE"].endswith("mysql"):
        return None
    try:
        import asyncmy
    except ImportError:  # a project's copy of the app without it: the ORM stores every message
        return None
    return asyncmy


ASYNC_DRIVER = _async_driver()


class Writer:
    """Stores the messages of one event loop (a server process), a batch at a time: a message that
    finds no batch under way is stored at once, the others wait for the next batch."""

    def __init__(self) -> None:
        self.waiting: list[tuple[Incoming, asyncio.Future[Event]]] = []
        self.task: asyncio.Task[None] | None = None
        self.connection: Any = None
        self.connection_expires = 0.0

    async def store(self, message: Incoming) -> Event:
        future: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        self.waiting.append((message, future))
        if self.task is None:
            self.task = asyncio.create_task(self._write())
        return await future

    async def _write(self) -> None:
        try:
            while self.waiting:
                batch, self.waiting = self.waiting[:BATCH_MAX], self.waiting[BATCH_MAX:]
                futures = [future for _message, future in batch]
                try:
                    results = await self._store([message for message, _future in batch])
                except asyncio.CancelledError:  # the process stops
                    for future in futures:
                        future.cancel()
                    raise
                except Exception as error:  # noqa: BLE001 - the batch's sockets get it; the next batch runs
                    results = [error] * len(futures)
                for future, result in zip(futures, results, strict=True):
                    if future.done():  # its socket closed meanwhile
                        continue
                    if isinstance(result, Exception):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self.task = None

    async def _store(self, messages: list[Incoming]) -> list[Event] | list[Event | Exception]:
        if ASYNC_DRIVER is not None:
            try:
                return await self._store_together(messages)
            except Exception:  # noqa: BLE001 - each on its own, through the ORM, says what failed
                # A batch committed whose answer was lost is stored again: the nonces (the page's
                # client sends one with every message) keep that to one copy.
                self._disconnect()
        return await _store_each(messages)

    async def _store_together(self, messages: list[Incoming]) -> list[Event]:
        """The messages stored in one transaction and one round trip, or none of them."""
        connection = await self._connect()
        created = timezone.now()
        when = connections[DATABASE].ops.adapt_datetimefield_value(created)
        # Rooms locked in one order by every batch, so that no two wait on each other; sorted()
        # keeps each room's messages in the order they came.
        order = sorted(range(len(messages)), key=lambda index: messages[index].room_id)
        stored: list[Event] = [{}] * len(messages)
        async with connection.cursor() as results:
            await results.execute(
                f"START TRANSACTION;{STORE_SQL * len(messages)}COMMIT",
                [value for index in order for value in (messages[index].room_id, *messages[index], when)],
            )
            for index in order:  # a failed statement raises here; the disconnect rolls back
                await results.nextset()
                seq = results.lastrowid
                await results.nextset()
                stored[index] = Message(
                    pk=results.lastrowid, seq=seq, created=created, **messages[index]._asdict()
                ).as_event()
            await results.nextset()
        return stored

    async def _connect(self) -> Any:
        """The loop's own connection, opened again after a failure and after the alias's
        CONN_MAX_AGE, as Django does its own."""
        if self.connection is not None and time.monotonic() < self.connection_expires:
            return self.connection
        self._disconnect()
        self.connection = await ASYNC_DRIVER.connect(
            host=SETTINGS["HOST"] or "localhost",
            port=int(SETTINGS["PORT"] or 3306),
            user=SETTINGS["USER"],
            password=SETTINGS["PASSWORD"],
            database=SETTINGS["NAME"],
            charset=SETTINGS.get("OPTIONS", {}).get("charset", "utf8mb4"),
            autocommit=True,
        )
        max_age = SETTINGS.get("CONN_MAX_AGE", 0)
        self.connection_expires = float("inf") if max_age is None else time.monotonic() + max_age
        return self.connection

    def _disconnect(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


# A writer for each event loop: one a server process, a new one for each test.
WRITERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Writer] = weakref.WeakKeyDictionary()


async def store_message(room: int, text: str, author: str, nonce: str | None) -> Event:
    """The message stored with the room's next number, or the one stored already with its nonce."""
    loop = asyncio.get_running_loop()
    writer = WRITERS.get(loop) or WRITERS.setdefault(loop, Writer())
    return await writer.store(Incoming(room, text, author, nonce))
