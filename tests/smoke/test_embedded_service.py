"""The zero-config default: `taxicrm serve` with no URLs runs embedded servers and keeps data across restarts."""

import json
import signal
import time
import urllib.request
from pathlib import Path

from tests.support import ServiceProcess

ADMIN_PASSWORD = "embedded admin pw"


def call(url, path, body=None, token=None):
    request = urllib.request.Request(url + path, data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_embedded_service_starts_stops_and_keeps_data(tmp_path):
    env = {"DATABASE_URL": "", "REDIS_URL": "", "TAXICRM_DATA": str(tmp_path / "data"),
           "TAXICRM_ADMIN_PASSWORD": ADMIN_PASSWORD}

    started = time.monotonic()
    first = ServiceProcess(env).start(tmp_path)
    print(f"first start (initdb included) ready in {time.monotonic() - started:.1f}s")
    token = call(first.url, "/api/auth/login", {"username": "admin", "password": ADMIN_PASSWORD})["token"]
    call(first.url, "/api/drivers", {"name": "Kept Across Restarts"}, token)
    assert first.stop(signal.SIGTERM) == 0
    assert not (tmp_path / "data" / "postgres" / "postmaster.pid").exists(), "embedded PostgreSQL still runs"
    assert not (tmp_path / "data" / "redis" / "redis.sock").exists(), "embedded Redis still runs"

    started = time.monotonic()
    second = ServiceProcess(env).start(tmp_path)
    print(f"second start ready in {time.monotonic() - started:.1f}s")
    try:
        token = call(second.url, "/api/auth/login", {"username": "admin", "password": ADMIN_PASSWORD})["token"]
        drivers = call(second.url, "/api/drivers", token=token)["drivers"]
        assert [d["name"] for d in drivers] == ["Kept Across Restarts"]
    finally:
        assert second.stop(signal.SIGINT) == 0


def test_after_a_sigkill_the_next_start_adopts_and_later_stops_the_embedded_servers(tmp_path):
    env = {"DATABASE_URL": "", "REDIS_URL": "", "TAXICRM_DATA": str(tmp_path / "data"),
           "TAXICRM_ADMIN_PASSWORD": ADMIN_PASSWORD}
    killed = ServiceProcess(env).start(tmp_path)
    token = call(killed.url, "/api/auth/login", {"username": "admin", "password": ADMIN_PASSWORD})["token"]
    call(killed.url, "/api/drivers", {"name": "Survives A Crash"}, token)
    killed.stop(signal.SIGKILL)  # The servers it started keep running, orphaned.

    successor = ServiceProcess(env).start(tmp_path)
    token = call(successor.url, "/api/auth/login", {"username": "admin", "password": ADMIN_PASSWORD})["token"]
    assert [d["name"] for d in call(successor.url, "/api/drivers", token=token)["drivers"]] == ["Survives A Crash"]
    assert successor.stop(signal.SIGTERM) == 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (tmp_path / "data" / "postgres" / "postmaster.pid").exists():
        time.sleep(0.1)
    assert not (tmp_path / "data" / "postgres" / "postmaster.pid").exists(), "orphaned PostgreSQL still runs"
    assert not processes_mentioning(str(tmp_path / "data")), "an embedded server still runs"


def processes_mentioning(text):
    """Return the command lines of running processes that mention `text` (the servers name their folder)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if proc.name.isdigit() and text in cmdline:
            found.append(cmdline)
    return found
