"""The sample chat app: pages, WebSocket fan-out and history; the role's health check on it."""

import pytest
from channels.routing import get_default_application
from channels.testing import WebsocketCommunicator
from django.test import Client

from chat.models import Message, Room

# Consumers reach the database from another thread: use real transactions.
pytestmark = pytest.mark.django_db(transaction=True)
ORIGIN = ((b"origin", b"http://localhost"),)


def connect(room: str, headers: tuple[tuple[bytes, bytes], ...] = ORIGIN) -> WebsocketCommunicator:
    return WebsocketCommunicator(get_default_application(), f"/ws/chat/{room}/", headers=list(headers))


def test_index_lists_rooms() -> None:
    Room.objects.create(name="lobby")
    response = Client().get("/")
    assert response.status_code == 200
    assert b"lobby" in response.content


def test_room_page_shows_the_last_fifty_messages() -> None:
    room = Room.objects.create(name="history")
    Message.objects.bulk_create(Message(room=room, text=f"msg-{i:03d}") for i in range(60))
    response = Client().get("/chat/history/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "msg-059" in body and "msg-010" in body
    assert "msg-009" not in body


def test_unknown_host_is_refused() -> None:
    assert Client(HTTP_HOST="evil.example").get("/").status_code == 400


@pytest.mark.asyncio
async def test_health_check_reports_database_and_channel_layer() -> None:
    from djangostack.health import check

    healthy, status = await check()
    assert (healthy, status) == (True, {"database": "ok", "channel_layer": "ok"})


@pytest.mark.asyncio
async def test_chat_message_reaches_every_client_in_room() -> None:
    first, second, elsewhere = connect("lobby"), connect("lobby"), connect("other")
    for communicator in (first, second, elsewhere):
        connected, _subprotocol = await communicator.connect()
        assert connected
    await first.send_json_to({"message": "hello room"})
    for communicator in (first, second):
        assert (await communicator.receive_json_from(timeout=5))["message"] == "hello room"
    assert await elsewhere.receive_nothing(timeout=0.2)
    for communicator in (first, second, elsewhere):
        await communicator.disconnect()


@pytest.mark.asyncio
async def test_chat_message_is_stored() -> None:
    communicator = connect("stored")
    await communicator.connect()
    await communicator.send_json_to({"message": "keep me"})
    received = await communicator.receive_json_from(timeout=5)
    await communicator.disconnect()
    message = await Message.objects.select_related("room").aget(pk=received["id"])
    assert (message.room.name, message.text) == ("stored", "keep me")


@pytest.mark.asyncio
async def test_invalid_message_is_rejected_and_not_stored() -> None:
    communicator = connect("strict")
    await communicator.connect()
    await communicator.send_json_to({"text": "wrong key"})
    assert "error" in await communicator.receive_json_from(timeout=5)
    await communicator.disconnect()
    assert not await Message.objects.filter(room__name="strict").aexists()


@pytest.mark.asyncio
async def test_websocket_from_foreign_origin_is_refused() -> None:
    communicator = connect("lobby", headers=((b"origin", b"http://evil.example"),))
    connected, _subprotocol = await communicator.connect()
    assert not connected
