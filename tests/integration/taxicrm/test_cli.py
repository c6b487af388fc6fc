import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from tests.conftest import PASSWORD
from tests.support import ROOT, free_port


def taxicrm(*args, env=None, stdin=""):
    full_env = {**os.environ, "TAXICRM_LOG_LEVEL": "warning", **(env or {})}
    return subprocess.run([sys.executable, "-m", "taxicrm", *args], input=stdin, capture_output=True,
                          text=True, env=full_env, cwd=ROOT, timeout=120)


@pytest.mark.parametrize("command", [[], ["serve"], ["demo"], ["migrate"], ["create-user"], ["settings"]])
def test_every_command_has_help(command):
    result = taxicrm(*command, "--help")
    assert result.returncode == 0 and "usage: taxicrm" in result.stdout


@pytest.mark.parametrize(("option", "says"), [(["--hang-up-share", "2"], "share from 0 to 1"),
                                              (["--drivers", "0"], "above 0"), (["--hour", "24"], "hour from 0 to 23"),
                                              (["--size", "huge"], "invalid choice")])
def test_a_bad_demo_option_is_refused_before_anything_starts(option, says):
    result = taxicrm("demo", *option)
    assert result.returncode == 2 and says in result.stderr and "Traceback" not in result.stderr


def assert_one_line_error(result, *words):
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    # Log lines (timestamped) may come first; the error itself is one line of its own.
    errors = [line for line in result.stderr.splitlines() if line.startswith("taxicrm: ")]
    assert len(errors) == 1, result.stderr
    assert all(word in errors[0] for word in words), errors[0]


async def test_the_demo_does_not_seed_a_database_that_already_has_staff(database_url, redis_url, make_staff, db,
                                                                         tmp_path):
    await make_staff("admin", username="real-admin")
    result = taxicrm("demo", "--size", "small", "--port", str(free_port()), env={
        "DATABASE_URL": database_url, "REDIS_URL": redis_url, "TAXICRM_DATA": str(tmp_path / "data")})
    assert_one_line_error(result, "already has staff accounts (real-admin)", "seeds only an empty one")
    assert await db.fetchval("SELECT count(*) FROM subscribers") == 0


def test_a_bad_setting_stops_the_start_with_one_line():
    assert_one_line_error(taxicrm("serve", env={"TAXICRM_PORT": "eighty"}), "TAXICRM_PORT", "whole number")


def test_an_unreachable_database_is_named():
    result = taxicrm("serve", env={"DATABASE_URL": "postgresql://postgres:secret@127.0.0.1:1/none",
                                   "REDIS_URL": "redis://127.0.0.1:1/0"})
    assert_one_line_error(result, "DATABASE_URL", "cannot connect", "127.0.0.1")
    assert "secret" not in result.stderr


def test_an_unreachable_redis_is_named(database_url):
    result = taxicrm("serve", env={"DATABASE_URL": database_url, "REDIS_URL": "redis://127.0.0.1:1/0"})
    assert_one_line_error(result, "REDIS_URL", "cannot connect")


def test_a_port_in_use_is_named(database_url, redis_url):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = taxicrm("serve", "--port", str(port), env={"DATABASE_URL": database_url, "REDIS_URL": redis_url})
    assert_one_line_error(result, "TAXICRM_PORT", str(port))


def test_migrate_reports_what_it_applied(database_url):
    result = taxicrm("migrate", env={"DATABASE_URL": database_url})
    assert result.returncode == 0 and "applied 0 migration(s)" in result.stdout


def test_create_user_reads_the_password_from_stdin(database_url, db):
    env = {"DATABASE_URL": database_url}
    created = taxicrm("create-user", "--username", "Sara", "--role", "supervisor", "--password-stdin",
                      env=env, stdin=PASSWORD + "\n")
    assert created.returncode == 0 and "created supervisor 'sara'" in created.stdout
    again = taxicrm("create-user", "--username", "sara", "--role", "operator", "--password-stdin",
                    env=env, stdin=PASSWORD + "\n")
    assert_one_line_error(again, "already taken")
    weak = taxicrm("create-user", "--username", "omid", "--role", "operator", "--password-stdin",
                   env=env, stdin="short\n")
    assert_one_line_error(weak, "10 to 1000 characters")
    no_tty = taxicrm("create-user", "--username", "omid", "--role", "operator", env=env)
    assert_one_line_error(no_tty, "--password-stdin")


async def test_a_first_start_without_an_admin_says_how_to_make_one(start_service):
    service = start_service()
    assert "taxicrm create-user --username admin --role admin" in service.log()
    assert service.stop(signal.SIGTERM) == 0


async def test_a_first_start_with_an_admin_password_creates_the_admin(start_service, db):
    service = start_service(TAXICRM_ADMIN_PASSWORD="first admin pw")
    assert await db.fetchval("SELECT role FROM staff_users WHERE username = 'admin'") == "admin"
    service.stop()
    start_service(TAXICRM_ADMIN_PASSWORD="first admin pw")  # A restart must not try to create it again.
    assert await db.fetchval("SELECT count(*) FROM staff_users") == 1


def test_workers_share_one_port_as_instances_and_stop_together(start_service):
    import json
    import urllib.request

    service = start_service(TAXICRM_WORKERS="2")
    # Each request opens a connection of its own; the kernel spreads them among the workers (the second may
    # still be starting when the first answers).
    answered_by = set()
    for _ in range(300):
        with urllib.request.urlopen(service.url + "/healthz", timeout=5) as response:
            answered_by.add(json.load(response)["pid"])
        if len(answered_by) == 2:
            break
        time.sleep(0.05)
    assert len(answered_by) == 2 and service.process.pid not in answered_by
    assert service.stop() == 0
    assert not [pid for pid in answered_by if os.path.exists(f"/proc/{pid}")]
