"""Test helpers: database URLs, running the real service as a subprocess, logging in."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aiohttp

ROOT = Path(__file__).resolve().parent.parent


def with_database(url: str, name: str) -> str:
    """Return the same server URL pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def free_port() -> int:
    """Return a TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServiceProcess:
    """A real `taxicrm serve` in a subprocess, for tests that need whole instances."""

    env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[str] | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, log_dir: Path) -> ServiceProcess:
        """Start the service and wait until /readyz answers 200 (or fail with its log)."""
        self.log_path = log_dir / f"service-{self.port}.log"
        env = {**os.environ, **self.env, "TAXICRM_PORT": str(self.port), "TAXICRM_HOST": "127.0.0.1"}
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "taxicrm", "serve"], env=env, cwd=ROOT,
                stdout=log, stderr=subprocess.STDOUT, text=True,
            )
        self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Poll /readyz until it answers 200."""
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"service exited with {self.process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url + "/readyz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"service not ready after {timeout}s:\n{self.log()}")

    def log(self) -> str:
        """Return what the service printed."""
        return self.log_path.read_text() if self.log_path and self.log_path.exists() else ""

    def stop(self, sig: int | None = None) -> int:
        """Stop the service (SIGTERM by default) and return its exit code."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            if sig is None:
                self.process.terminate()
            else:
                self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


async def log_in(session: aiohttp.ClientSession, base_url: str, username: str, password: str) -> str:
    """Log in through the API and return the session token."""
    async with session.post(f"{base_url}/api/auth/login",
                            json={"username": username, "password": password}) as response:
        assert response.status == 200, await response.text()
        return str((await response.json())["token"])
