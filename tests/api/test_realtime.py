import asyncio
import dataclasses
import json
import secrets
import weakref
from typing import Any

import aiohttp
import pytest
import websockets
from aiohttp import WSMsgType

from realtime.bus import RedisEventBus
from realtime.keys import BUS, HUB
from taxicrm.app import create_app
from taxicrm.events import OPERATORS, Event, PublishedEvent, driver_audience
from tests.conftest import PASSWORD
from tests.support import log_in

HANDSHAKE = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
             "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}


async def receive(ws: aiohttp.ClientWebSocketResponse, within: float = 5) -> dict[str, Any]:
    """Return the next message without its sequence number, which must be one more than the last."""
    msg = await ws.receive(timeout=within)
    assert msg.type is WSMsgType.TEXT, msg
    message = json.loads(msg.data)
    seq = message.pop("seq")
    assert seq == LAST_SEQ.get(ws, 0) + 1, message
    LAST_SEQ[ws] = seq
    return message


# Per socket, and gone with it: keyed by id() instead, a new socket at a closed one's address inherited its count.
LAST_SEQ: weakref.WeakKeyDictionary[aiohttp.ClientWebSocketResponse, int] = weakref.WeakKeyDictionary()


async def receive_close(ws: aiohttp.ClientWebSocketResponse, within: float = 5) -> int | None:
    msg = await ws.receive(timeout=within)
    assert msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSED), msg
    return ws.close_code


async def broadcast(client: Any, headers: dict[str, str], message: str, audience: str = "operators") -> str:
    response = await client.post("/api/broadcasts", json={"message": message, "audience": audience},
                                 headers=headers)
    assert response.status == 202, await response.text()
    return (await response.json())["id"]


@pytest.fixture
def bus(redis_client) -> RedisEventBus:
    """A publisher standing in for another instance: it shares nothing with the app but Redis."""
    return RedisEventBus(redis_client, retention=1000)


# One instance, in this process.

async def test_staff_get_a_hello_then_the_broadcasts_meant_for_them(client, staff_headers):
    operator, supervisor = await staff_headers("operator"), await staff_headers("supervisor")
    async with client.ws_connect("/ws", headers=operator) as ws:
        hello = await receive(ws)
        assert hello["type"] == "hello" and hello["last_id"] == "0-0"
        assert hello["principal"]["role"] == "operator"
        await broadcast(client, supervisor, "Supervisors only", audience="supervisors")
        sent = await broadcast(client, supervisor, "Heavy rain: quote 20% longer ETAs")
        event = await receive(ws)
    assert event == {"type": "event", "id": sent, "topic": "broadcast.sent", "data": event["data"]}
    assert event["data"]["message"] == "Heavy rain: quote 20% longer ETAs"
    assert event["data"]["audience"] == "operators" and event["data"]["sender"]["role"] == "supervisor"


async def test_a_supervisor_hears_the_operators_broadcasts_and_their_own(client, staff_headers):
    supervisor, admin = await staff_headers("supervisor"), await staff_headers("admin")
    async with client.ws_connect("/ws", headers=supervisor) as ws:
        await receive(ws)
        ids = [await broadcast(client, admin, "floor"),
               await broadcast(client, admin, "leads", audience="supervisors")]
        assert [(await receive(ws))["id"] for _ in ids] == ids


@pytest.mark.parametrize(("body", "code"), [
    ({"audience": "operators"}, "missing_field"),
    ({"message": "x" * 501, "audience": "operators"}, "too_long"),
    ({"message": "   ", "audience": "operators"}, "empty_field"),
    ({"message": "hi", "audience": "passengers"}, "invalid_choice"),
    ({"message": 5, "audience": "operators"}, "wrong_type"),
])
async def test_broadcasts_refuse_bad_input(client, staff_headers, body, code):
    response = await client.post("/api/broadcasts", json=body, headers=await staff_headers("supervisor"))
    assert response.status == 400
    assert (await response.json())["error"]["code"] == code


async def test_operators_may_not_broadcast(client, staff_headers):
    response = await client.post("/api/broadcasts", json={"message": "hi", "audience": "operators"},
                                 headers=await staff_headers("operator"))
    assert response.status == 403


async def test_an_unauthenticated_websocket_is_refused_with_the_401_envelope(client):
    for path in ("/ws", "/ws/driver"):
        response = await client.get(path, headers=HANDSHAKE)
        assert response.status == 401
        assert (await response.json())["error"]["code"] == "not_authenticated"
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect(path)
        assert refused.value.status == 401


async def test_each_kind_of_user_has_only_its_own_socket(client, staff_headers, make_driver):
    _, token = await make_driver()
    for path, headers in (("/ws", {"Authorization": f"Bearer {token}"}),
                          ("/ws/driver", await staff_headers("operator"))):
        response = await client.get(path, headers={**HANDSHAKE, **headers})
        assert response.status == 403
        assert (await response.json())["error"]["code"] == "forbidden"


async def test_a_revoked_or_suspended_drivers_token_no_longer_opens_the_socket(client, make_driver, db):
    from dispatch import service

    revoked, revoked_token = await make_driver("Revoked")
    await service.revoke_tokens(db, revoked.id)
    suspended, suspended_token = await make_driver("Suspended")
    await db.execute("UPDATE drivers SET status = 'suspended', suspended_reason = 'test' WHERE id = $1",
                     suspended.id)
    for token in (revoked_token, suspended_token):
        response = await client.get("/ws/driver", params={"token": token}, headers=HANDSHAKE)
        assert response.status == 401


async def test_a_client_that_stops_answering_pings_is_disconnected(aiohttp_client, settings, staff_headers):
    app = create_app(dataclasses.replace(settings, ws_heartbeat_seconds=1))
    client = await aiohttp_client(app)
    # autoping=False: the client neither answers the server's pings nor sends its own, like a dead phone.
    async with client.ws_connect("/ws", headers=await staff_headers("operator"), autoping=False,
                                 heartbeat=None) as ws:
        assert (await receive(ws))["type"] == "hello"
        assert len(app[HUB]) == 1
        kinds = []
        while not ws.closed:
            message = await ws.receive(timeout=10)
            kinds.append(message.type)
            if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING):
                break
        assert WSMsgType.PING in kinds
    for _ in range(50):
        if len(app[HUB]) == 0:
            break
        await asyncio.sleep(0.05)
    assert len(app[HUB]) == 0


async def test_a_plain_get_or_a_malformed_last_id_is_refused_before_the_upgrade(client, staff_headers):
    headers = await staff_headers("operator")
    plain = await client.get("/ws", headers=headers)
    assert plain.status == 426 and (await plain.json())["error"]["code"] == "websocket_required"
    bad = await client.get("/ws", params={"last_id": "yesterday"}, headers={**HANDSHAKE, **headers})
    assert bad.status == 400 and (await bad.json())["error"]["code"] == "invalid_last_id"


async def test_a_driver_hears_and_replays_only_its_own_events(client, make_driver, bus):
    driver, token = await make_driver()
    theirs = Event("fleet.notice", (driver_audience(driver.id + 1),))
    mine = Event("fleet.notice", (driver_audience(driver.id),))
    # Mobile clients pass the token in the query string.
    async with client.ws_connect("/ws/driver", params={"token": token}) as ws:
        hello = await receive(ws)
        assert hello["principal"] == {"role": "driver", "id": driver.id}
        assert (await receive(ws))["type"] == "state"  # What a driver's app must show comes after the hello.
        await bus.publish(theirs)
        live = await bus.publish(mine)
        assert (await receive(ws))["id"] == live
    batch = await bus.publish_all([theirs, mine, theirs])
    missed = [batch[1], await bus.publish(mine)]
    async with client.ws_connect("/ws/driver", params={"last_id": live},
                                 headers={"Authorization": f"Bearer {token}"}) as ws:
        assert (await receive(ws))["last_id"] == live
        assert [(await receive(ws))["id"] for _ in missed] == missed
        assert (await receive(ws))["type"] == "state"
        # Nothing else was queued for this driver: the next message answers its ping.
        await ws.send_json({"type": "ping"})
        assert await receive(ws) == {"type": "pong"}


async def test_a_client_whose_history_is_gone_is_told_to_resync_then_gets_live_events(client, staff_headers,
                                                                                      bus):
    tip = await bus.publish(Event("ride.created", (OPERATORS,)))
    async with client.ws_connect("/ws", params={"last_id": "99999999999999-0"},
                                 headers=await staff_headers("operator")) as ws:
        assert (await receive(ws))["last_id"] == tip
        assert await receive(ws) == {"type": "resync", "reason": "history_gone"}
        live = await bus.publish(Event("ride.created", (OPERATORS,)))
        assert (await receive(ws))["id"] == live


async def test_client_messages_are_answered_and_never_break_the_connection(client, make_driver):
    _, token = await make_driver()
    async with client.ws_connect("/ws/driver", params={"token": token}) as ws:
        await receive(ws)
        await receive(ws)
        for frame, code in (("{not json", "malformed_json"), ("[1]", "malformed_json"),
                            ('{"type": ["x"]}', "unknown_type"), ('{"type": "fly"}', "unknown_type"),
                            ('{"type": "ping", "ref": {"a": 1}}', "invalid_ref"), (b"\x00", "not_text"),
                            # Found by fuzzing: nesting deep enough to exhaust the parser's stack ended the socket.
                            ("[" * 20_000 + "]" * 20_000, "malformed_json"),
                            ('{"type": "position", "lat": ' + "[" * 20_000, "malformed_json")):
            await (ws.send_bytes(frame) if isinstance(frame, bytes) else ws.send_str(frame))
            reply = await receive(ws)
            assert reply["type"] == "error" and reply["code"] == code
        await ws.send_json({"type": "ping"})
        assert await receive(ws) == {"type": "pong"}


async def test_a_burst_longer_than_the_queue_does_not_cut_off_a_client_that_keeps_up(aiohttp_client, settings,
                                                                                       staff_headers, bus):
    client = await aiohttp_client(create_app(dataclasses.replace(settings, ws_queue_size=4)))
    async with client.ws_connect("/ws", headers=await staff_headers("operator")) as ws:
        await receive(ws)
        ids = await bus.publish_all([Event("ride.created", (OPERATORS,), {"n": n}) for n in range(50)])
        assert [(await receive(ws))["id"] for _ in ids] == ids


async def test_a_slow_client_is_cut_off_with_a_resync_instead_of_growing_memory(aiohttp_client, settings,
                                                                                 staff_headers, bus):
    app = create_app(dataclasses.replace(settings, ws_queue_size=4))
    client = await aiohttp_client(app)
    async with client.ws_connect("/ws", headers=await staff_headers("operator"), compress=0) as ws:
        await receive(ws)
        dispatched: asyncio.Queue[PublishedEvent] = asyncio.Queue()
        app[BUS].subscribe(dispatched.put_nowait)
        # This client reads nothing while ~25 MB flow at it: the socket buffers fill, then its queue.
        blob = secrets.token_hex(128 * 1024)
        ids = [await bus.publish(Event("ride.created", (OPERATORS,), {"blob": blob})) for _ in range(100)]
        while (await asyncio.wait_for(dispatched.get(), 10)).id != ids[-1]:
            pass
        received = []
        while (message := await receive(ws, within=10))["type"] == "event":
            received.append(message["id"])
        assert message == {"type": "resync", "reason": "too_slow"}
        assert received == ids[:len(received)] and len(received) < len(ids)
        assert await receive_close(ws) == aiohttp.WSCloseCode.TRY_AGAIN_LATER


async def test_shutting_down_closes_websockets_as_going_away(aiohttp_server, settings, staff_headers):
    server = await aiohttp_server(create_app(settings))
    async with aiohttp.ClientSession() as session, session.ws_connect(
        server.make_url("/ws"), headers=await staff_headers("operator"),
    ) as ws:
        await receive(ws)
        closing = asyncio.create_task(server.close())
        assert await receive_close(ws) == aiohttp.WSCloseCode.GOING_AWAY
        await asyncio.wait_for(closing, 10)


# Two real instances, as separate processes sharing PostgreSQL and Redis.

@pytest.fixture
def two_instances(start_service):
    return start_service(), start_service()


async def bearer(session: aiohttp.ClientSession, instance: Any, username: str) -> dict[str, str]:
    token = await log_in(session, instance.url, username, PASSWORD)
    session.cookie_jar.clear()  # Each request names its user by token; a shared cookie would override it.
    return {"Authorization": f"Bearer {token}"}


async def test_a_broadcast_through_one_instance_reaches_a_client_of_another(two_instances, make_staff, bus):
    a, b = two_instances
    operator, supervisor = await make_staff("operator"), await make_staff("supervisor")
    async with aiohttp.ClientSession() as session:
        operator_auth = await bearer(session, b, operator.username)
        supervisor_auth = await bearer(session, a, supervisor.username)
        async with session.ws_connect(f"{b.url}/ws", headers=operator_auth) as ws:
            assert (await receive(ws))["principal"] == {"role": "operator", "id": operator.id}
            response = await session.post(f"{a.url}/api/broadcasts", headers=supervisor_auth,
                                          json={"message": "Airport queue is long", "audience": "operators"})
            assert response.status == 202
            sent = (await response.json())["id"]
            event = await receive(ws)
    assert event["id"] == sent and event["data"]["message"] == "Airport queue is long"


async def test_a_client_that_reconnects_to_the_other_instance_misses_nothing(two_instances, make_staff):
    a, b = two_instances
    operator, supervisor = await make_staff("operator"), await make_staff("supervisor")
    async with aiohttp.ClientSession() as session:
        operator_auth = await bearer(session, a, operator.username)
        supervisor_auth = await bearer(session, a, supervisor.username)

        async def announce(instance: Any, message: str) -> str:
            async with session.post(f"{instance.url}/api/broadcasts", headers=supervisor_auth,
                                    json={"message": message, "audience": "operators"}) as response:
                assert response.status == 202
                return (await response.json())["id"]

        async with session.ws_connect(f"{b.url}/ws", headers=operator_auth) as ws:
            await receive(ws)
            seen = await announce(a, "before the drop")
            assert (await receive(ws))["id"] == seen
        missed = [await announce(a, "missed 1"), await announce(b, "missed 2"), await announce(a, "missed 3")]
        async with session.ws_connect(f"{a.url}/ws", params={"last_id": seen}, headers=operator_auth) as ws:
            assert (await receive(ws))["last_id"] == seen
            replayed = [await receive(ws) for _ in missed]
            live = await announce(b, "after the return")
            after = await receive(ws)
    assert [m["id"] for m in replayed] == missed
    assert [m["data"]["message"] for m in replayed] == ["missed 1", "missed 2", "missed 3"]
    assert after["id"] == live  # Live again, with nothing repeated.


async def test_an_instance_that_stops_sends_its_clients_away_to_resume_elsewhere(start_service, make_staff):
    a, b = start_service(), start_service()
    operator = await make_staff("operator")
    async with aiohttp.ClientSession() as session:
        auth = await bearer(session, a, operator.username)
        async with session.ws_connect(f"{b.url}/ws", headers=auth) as ws:
            last_id = (await receive(ws))["last_id"]
            stopping = asyncio.create_task(asyncio.to_thread(b.stop))
            assert await receive_close(ws, within=10) == aiohttp.WSCloseCode.GOING_AWAY
            assert await stopping == 0
        async with session.ws_connect(f"{a.url}/ws", params={"last_id": last_id}, headers=auth) as ws:
            assert (await receive(ws))["type"] == "hello"


async def test_a_driver_app_using_the_websockets_library_gets_its_events_from_another_instance(
        start_service, make_driver, bus):
    # A driver app is not an aiohttp client: check a standard client library interoperates, query token and all.
    # The test's own bus stands in for the instance that publishes.
    b = start_service()
    driver, token = await make_driver()
    url = b.url.replace("http://", "ws://") + f"/ws/driver?token={token}"
    async with websockets.connect(url) as app:
        hello = json.loads(await asyncio.wait_for(app.recv(), 5))
        assert hello["principal"] == {"role": "driver", "id": driver.id} and hello["seq"] == 1
        state = json.loads(await asyncio.wait_for(app.recv(), 5))
        assert (state["type"], state["seq"], state["ride"], state["offer"]) == ("state", 2, None, None)
        sent = await bus.publish(Event("fleet.notice", (driver_audience(driver.id),), {"message": "hi"}))
        received = json.loads(await asyncio.wait_for(app.recv(), 5))
        assert received == {"seq": 3, "type": "event", "id": sent, "topic": "fleet.notice",
                            "data": {"message": "hi"}}
        await app.send(json.dumps({"type": "ping", "ref": "p1"}))
        assert json.loads(await asyncio.wait_for(app.recv(), 5)) == {"seq": 4, "type": "pong", "ref": "p1"}
    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        async with websockets.connect(b.url.replace("http://", "ws://") + "/ws/driver?token=d_forged"):
            pass
    assert refused.value.response.status_code == 401
