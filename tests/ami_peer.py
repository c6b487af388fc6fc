"""A real AMI peer for tests: accepts TCP connections and speaks the Manager protocol as Asterisk does."""

import asyncio
import contextlib

BANNER = b"Asterisk Call Manager/7.0.3\r\n"
SECRET = "s3cret-پنهان"
FAST = {
    "keepalive_seconds": 0.2,
    "reply_timeout_seconds": 0.5,
    "backoff_initial_seconds": 0.05,
    "backoff_max_seconds": 0.2,
}


def wire(*packets: dict[str, str]) -> bytes:
    return b"".join("".join(f"{k}: {v}\r\n" for k, v in p.items()).encode() + b"\r\n" for p in packets)


def direct_call(linkedid: str, caller: str, name: str, extension: str) -> bytes:
    """A caller dials the center, operator `extension` answers, the caller hangs up."""
    inbound = {
        "Channel": "PJSIP/mci-trunk-00000010",
        "CallerIDNum": caller,
        "CallerIDName": name,
        "Context": "from-trunk",
        "Exten": "02188001234",
        "Uniqueid": linkedid,
        "Linkedid": linkedid,
    }
    op = {
        "Channel": f"PJSIP/{extension}-0000001a",
        "CallerIDNum": extension,
        "CallerIDName": "<unknown>",
        "Context": "from-internal",
        "Exten": extension,
        "Uniqueid": f"{linkedid}1",
        "Linkedid": linkedid,
    }
    dest = {f"Dest{k}": v for k, v in op.items()}
    return wire(
        {"Event": "Newchannel", "Privilege": "call,all", **inbound, "ChannelState": "4", "ChannelStateDesc": "Ring"},
        {"Event": "Newchannel", "Privilege": "call,all", **op, "ChannelState": "0", "ChannelStateDesc": "Down"},
        {"Event": "DialBegin", "Privilege": "call,all", **inbound, **dest, "DialString": extension},
        {"Event": "Newstate", "Privilege": "call,all", **op, "ChannelState": "5", "ChannelStateDesc": "Ringing"},
        {"Event": "Newstate", "Privilege": "call,all", **op, "ChannelState": "6", "ChannelStateDesc": "Up"},
        {"Event": "DialEnd", "Privilege": "call,all", **inbound, **dest, "DialStatus": "ANSWER"},
        {"Event": "BridgeEnter", "Privilege": "call,all", **op, "BridgeUniqueid": "b1"},
        {"Event": "Hangup", "Privilege": "call,all", **inbound, "Cause": "16", "Cause-txt": "Normal Clearing"},
        {"Event": "Hangup", "Privilege": "call,all", **op, "Cause": "16", "Cause-txt": "Normal Clearing"},
    )


class FakeAsterisk:
    """Accepts AMI connections: banner, Login (checked), Ping, then replays `after_login` to each session."""

    def __init__(self, after_login: bytes = b"", *, banner: bytes = BANNER, answers_pings: bool = True) -> None:
        self.after_login = after_login
        self.banner = banner
        self.answers_pings = answers_pings
        self.connections = 0
        self.logins: list[dict[str, str]] = []
        self.refused = 0
        self.pings = 0
        self.closed_by_client = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self, port: int = 0) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", port)
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()
        await asyncio.sleep(0.05)  # Let the sessions' handlers finish closing.

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        writer.write(self.banner)
        try:
            while True:
                raw = await reader.readuntil(b"\r\n\r\n")
                action = dict(line.split(": ", 1) for line in raw.decode().strip().split("\r\n"))
                action_id = action.get("ActionID", "")
                if action["Action"] == "Login":
                    if action.get("Username") != "crm" or action.get("Secret") != SECRET:
                        self.refused += 1
                        writer.write(
                            wire({"Response": "Error", "ActionID": action_id, "Message": "Authentication failed"})
                        )
                        break  # Asterisk drops the connection after a failed login.
                    self.logins.append(action)
                    writer.write(
                        wire({"Response": "Success", "ActionID": action_id, "Message": "Authentication accepted"})
                    )
                    writer.write(wire({"Event": "FullyBooted", "Privilege": "system,all", "Status": "Fully Booted"}))
                    writer.write(self.after_login)
                elif action["Action"] == "Ping":
                    self.pings += 1
                    if self.answers_pings:
                        writer.write(
                            wire(
                                {
                                    "Response": "Success",
                                    "ActionID": action_id,
                                    "Ping": "Pong",
                                    "Timestamp": "1709271000.000000",
                                }
                            )
                        )
                await writer.drain()
        except asyncio.IncompleteReadError:
            self.closed_by_client.set()
        except ConnectionError:
            pass
        finally:
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
