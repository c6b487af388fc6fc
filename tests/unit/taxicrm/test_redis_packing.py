"""hiredis packs every command byte for byte as redis-py's own Python packer would."""

import pytest
from redis.asyncio.connection import Connection, UnixDomainSocketConnection
from redis.exceptions import DataError

from taxicrm.redis_packing import packed_by_hiredis

PACKED = packed_by_hiredis(Connection)


def pack(command: tuple) -> list[bytes]:
    return PACKED().pack_command(*command)


COMMANDS = [
    ("GEOADD", "taxicrm:drivers:geo", 51.338, 35.6997, "17", 51.4, -35.123456789012345, "18"),
    ("ZADD", "taxicrm:drivers:seen", "GT", 1_765_000_000.123, "17"),
    ("HSET", "taxicrm:subscriber", "name", "مریم رضایی", "phone", "+989121234567"),
    ("SET", "k", b"\x00\xffraw", "PX", 2**40),
    ("SET", "k", memoryview(b"a view"), "NX"),
    ("SET", "k", bytearray(b"a buffer")),
    ("CONFIG GET", "maxmemory"),  # A command name of two words goes as two arguments.
    (b"SCRIPT LOAD", "return 1"),
    ("XADD", "taxicrm:events", "MAXLEN", "~", 10_000, "*", "data", '{"a":1}' * 2_000),  # past the chunk size
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: str(c[0]))
def test_the_bytes_are_redis_py_s_own(command):
    assert b"".join(pack(command)) == b"".join(Connection().pack_command(*command))


@pytest.mark.parametrize("bad", [True, None, object()])
def test_a_value_redis_cannot_hold_is_the_data_error_redis_py_raises(bad):
    with pytest.raises(DataError):
        Connection().pack_command("SET", "k", bad)
    with pytest.raises(DataError):
        pack(("SET", "k", bad))


def test_the_connection_the_url_chose_keeps_its_transport_and_packs_with_hiredis():
    for chosen in (Connection, UnixDomainSocketConnection):
        packed = packed_by_hiredis(chosen)
        assert issubclass(packed, chosen) and packed.__name__ == f"HiredisPacked{chosen.__name__}"
        assert packed().pack_command("GET", "k") == pack(("GET", "k"))
