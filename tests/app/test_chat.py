"""The sample chat app: pages, WebSocket fan-out and history; the role's health check on it."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.routing import get_default_application
from channels.testing import WebsocketCommunicator
from django.db import IntegrityError
from django.test import Client

import chat.store
from chat.models import Message, Room
from chat.store import store_message

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


def test_the_index_form_opens_the_room_it_names() -> None:
    response = Client().get("/chat/", {"room": " café-2_b "})
    assert response.status_code == 302 and response["Location"] == "/chat/caf%C3%A9-2_b/"
    assert Client().get(response["Location"]).status_code == 200


def test_the_index_form_refuses_a_name_a_room_cannot_have_and_says_what_is_allowed() -> None:
    for name in ("", "a b", "x" * 65, "../etc"):
        response = Client().get("/chat/", {"room": name})
        assert response.status_code == 400, name
        assert "1 to 64 letters, digits, - or _" in response.content.decode()


def test_the_index_page_has_no_inline_script_and_names_its_icon() -> None:
    body = Client().get("/").content.decode()
    assert "onsubmit" not in body and "<script>" not in body and "style=" not in body
    assert 'rel="icon"' in body


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
async def test_a_message_from_a_replica_of_the_previous_release_still_reaches_the_room() -> None:
    # During a roll, replicas of the release before send the event's fields without its encoding.
    from channels.layers import get_channel_layer

    reader = connect("mixed")
    await reader.connect()
    old = {
        "id": 7,
        "seq": 3,
        "message": "from v1",
        "name": "Ada",
        "nonce": "",
        "created": "2026-01-01T00:00:00+00:00",
    }
    await get_channel_layer().group_send("chat.mixed", {"type": "chat.message", **old})
    assert await reader.receive_json_from(timeout=5) == old
    await reader.disconnect()


@pytest.mark.asyncio
async def test_a_room_deleted_by_hand_is_made_again_by_the_next_socket() -> None:
    # Room ids are kept for the process: a stale one fails one socket, not the room for good.
    first = connect("deleted")
    await first.connect()
    await first.send_json_to({"message": "before"})
    await first.receive_json_from(timeout=5)
    await first.disconnect()
    await Room.objects.filter(name="deleted").adelete()
    stale = connect("deleted")
    await stale.connect()
    await stale.send_json_to({"message": "lost with its socket"})
    with pytest.raises((Room.DoesNotExist, IntegrityError)):  # the server closes the socket with 1011
        await stale.receive_output(timeout=1)
    again = connect("deleted")
    await again.connect()
    await again.send_json_to({"message": "after"})
    assert (await again.receive_json_from(timeout=5))["seq"] == 1
    await again.disconnect()
    texts = await database_sync_to_async(list)(
        Message.objects.filter(room__name="deleted").values_list("text", flat=True)
    )
    assert texts == ["after"]


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


@pytest.mark.asyncio
async def test_a_message_carries_its_id_time_and_the_senders_chosen_name() -> None:
    communicator = connect("named")
    await communicator.connect()
    await communicator.send_json_to({"message": "signed", "name": "  Ada  "})
    received = await communicator.receive_json_from(timeout=5)
    await communicator.disconnect()
    assert received["message"] == "signed" and received["name"] == "Ada"
    assert isinstance(received["id"], int) and received["created"]


@pytest.mark.asyncio
async def test_a_message_sent_again_with_its_nonce_is_stored_once_and_comes_back_as_stored() -> None:
    # A client that reconnects sends again what it never saw come back; it may have been stored.
    first, second = connect("resent"), connect("resent")
    await first.connect()
    await second.connect()
    await first.send_json_to({"message": "once", "nonce": "n-1"})
    stored = await first.receive_json_from(timeout=5)
    await second.receive_json_from(timeout=5)
    await second.send_json_to({"message": "once", "nonce": "n-1"})
    again = [await communicator.receive_json_from(timeout=5) for communicator in (first, second)]
    await first.send_json_to({"message": "no nonce"})
    await first.send_json_to({"message": "no nonce"})
    plain = [await first.receive_json_from(timeout=5) for _i in range(2)]
    await first.disconnect()
    await second.disconnect()
    assert stored["nonce"] == "n-1" and again == [stored, stored]
    assert plain[0]["id"] != plain[1]["id"] and plain[0]["nonce"] == ""
    texts = await database_sync_to_async(list)(
        Message.objects.filter(room__name="resent").values_list("text", flat=True)
    )
    assert sorted(texts) == ["no nonce", "no nonce", "once"]


def test_a_client_that_was_away_gets_what_came_after_the_last_number_it_holds() -> None:
    room = Room.objects.create(name="away")
    ids = [Message.objects.create(room=room, text=f"m{i}", author="bo", seq=i + 1).pk for i in range(5)]
    Message.objects.create(room=Room.objects.create(name="elsewhere"), text="not this room", seq=1)
    response = Client().get("/chat/away/messages/", {"after": 2})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    body = response.json()
    assert [message["message"] for message in body["messages"]] == ["m2", "m3", "m4"]
    assert [message["id"] for message in body["messages"]] == ids[2:]
    assert [message["seq"] for message in body["messages"]] == [3, 4, 5]
    assert body["messages"][0]["name"] == "bo" and body["more"] is False


def test_the_catch_up_comes_in_pages_and_refuses_a_number_that_is_not_one() -> None:
    from chat.views import CATCH_UP_LENGTH

    room = Room.objects.create(name="busy")
    Message.objects.bulk_create(
        Message(room=room, text=f"m{i}", seq=i + 1) for i in range(CATCH_UP_LENGTH + 3)
    )
    first = Client().get("/chat/busy/messages/", {"after": 0}).json()
    assert len(first["messages"]) == CATCH_UP_LENGTH and first["more"] is True
    rest = Client().get("/chat/busy/messages/", {"after": first["messages"][-1]["seq"]}).json()
    assert len(rest["messages"]) == 3 and rest["more"] is False
    assert Client().get("/chat/busy/messages/", {"after": "-1"}).status_code == 400


@pytest.mark.asyncio
async def test_a_rooms_messages_are_numbered_without_gaps_as_they_are_stored() -> None:
    # A client that holds 1 and gets 3 knows it missed 2 (two replicas store a room's messages).
    communicators = [connect("numbered") for _i in range(3)]
    for communicator in communicators:
        await communicator.connect()
    for i, communicator in enumerate(communicators):
        await communicator.send_json_to({"message": f"n{i}", "nonce": f"numbered-{i}"})
    await communicators[0].send_json_to({"message": "n0", "nonce": "numbered-0"})  # sent again: same number
    received = [await communicators[0].receive_json_from(timeout=5) for _i in range(4)]
    for communicator in communicators:
        await communicator.disconnect()
    assert sorted({event["seq"] for event in received}) == [1, 2, 3]
    assert await database_sync_to_async(lambda: Room.objects.get(name="numbered").last_seq)() == 3


@pytest.mark.asyncio
async def test_messages_that_arrive_together_are_stored_together_and_one_that_fails_fails_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A process stores what arrives while a batch is under way in the next: here all five at once.
    batches: list[int] = []
    store_each = chat.store._store_each
    monkeypatch.setattr(
        chat.store, "_store_each", lambda messages: batches.append(len(messages)) or store_each(messages)
    )
    room = await Room.objects.acreate(name="together")
    results = await asyncio.gather(
        *(store_message(room.pk, f"t{i}", "", None) for i in range(3)),
        store_message(room.pk + 1000, "to a room that is gone", "", None),
        store_message(room.pk, "t3", "", None),
        return_exceptions=True,
    )
    assert isinstance(results.pop(3), (Room.DoesNotExist, IntegrityError))
    assert [(event["message"], event["seq"]) for event in results] == [
        ("t0", 1),
        ("t1", 2),
        ("t2", 3),
        ("t3", 4),
    ]
    texts = await database_sync_to_async(list)(Message.objects.order_by("seq").values_list("text", flat=True))
    assert texts == ["t0", "t1", "t2", "t3"]
    assert batches == [5]


def test_the_models_and_the_migrations_agree() -> None:
    from django.core.management import call_command

    call_command("makemigrations", "chat", "--check", "--dry-run", verbosity=0)


@pytest.mark.asyncio
async def test_a_room_named_in_another_script_carries_messages() -> None:
    first, second = connect("café"), connect("café")
    for communicator in (first, second):
        connected, _subprotocol = await communicator.connect()
        assert connected
    await first.send_json_to({"message": "bonjour"})
    assert (await second.receive_json_from(timeout=5))["message"] == "bonjour"
    for communicator in (first, second):
        await communicator.disconnect()
