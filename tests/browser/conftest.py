"""Browser tests: the real console in Debian's headless Chromium (Playwright), against a real `taxicrm serve`.

Chromium comes from Debian's packages: the first browser test installs it when it is missing and we run as
root with apt-get (as on CI); otherwise a missing Chromium fails the tests loudly, naming the package. Set
TAXICRM_SCREENSHOTS to a folder (docs/screenshots) to save the screens the tests pass through.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Browser, Page, async_playwright

from callcenter.model import StaffUser
from tests.conftest import PASSWORD
from tests.support import ServiceProcess, log_in

CHROMIUM = os.environ.get("TAXICRM_CHROMIUM", "/usr/bin/chromium")
WEBHOOK_SECRET = "browser-tests-webhook-secret"
SCREENSHOTS = os.environ.get("TAXICRM_SCREENSHOTS", "")
# Quick offers, so tests of timeouts and the unassigned list do not wait 15 s a try.
SERVICE_ENV = {"TAXICRM_WEBHOOK_SECRET": WEBHOOK_SECRET, "TAXICRM_OFFER_TIMEOUT_SECONDS": "4",
               "TAXICRM_OFFER_MAX_TRIES": "2", "TAXICRM_ACCESS_LOG": "false"}


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium, installed from Debian's packages on first use where we may (root with apt-get)."""
    if not os.path.exists(CHROMIUM) and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        command = ["apt-get", "install", "-y", "-q", "chromium"]
        if subprocess.run(command, env=env, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True)
            subprocess.run(command, env=env, capture_output=True)
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium is not at {CHROMIUM}: install Debian's package (apt-get install -y chromium)")
    return CHROMIUM


@pytest.fixture
async def browser(chromium: str) -> AsyncIterator[Browser]:
    """Headless Debian Chromium; never a downloaded browser."""
    async with async_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        instance = await playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield instance
        await instance.close()


@pytest.fixture
def service(start_service: Callable[..., ServiceProcess]) -> ServiceProcess:
    """One real service for the test, with the PBX webhook open to WEBHOOK_SECRET."""
    return start_service(**SERVICE_ENV)


@dataclass
class Console:
    """One staff member's console in a browser tab, and the API and PBX around it."""

    page: Page
    user: StaffUser
    service: ServiceProcess
    http: aiohttp.ClientSession
    token: str
    calls: int = 0
    pressed: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.service.url

    async def api(self, method: str, path: str, json: Any = None, status: int | None = None,
                  headers: dict[str, str] | None = None) -> Any:
        """Call the API as this staff member (a bearer token, separate from the browser's cookie)."""
        async with self.http.request(method, self.url + path, json=json,
                                     headers={"Authorization": f"Bearer {self.token}", **(headers or {})}) as r:
            body = await r.json()
            if status is not None:
                assert r.status == status, body
            elif r.status >= 400:
                raise AssertionError(f"{method} {path} -> {r.status}: {body}")
            return body

    async def pbx(self, **event: Any) -> Any:
        """Post one call event to the webhook, as the center's PBX would."""
        async with self.http.post(self.url + "/api/pbx/call-events", json=event,
                                  headers={"X-Taxicrm-Secret": WEBHOOK_SECRET}) as r:
            assert r.status < 300, await r.text()
            return await r.json()

    async def ring(self, caller: str, call_id: str | None = None, extension: str | None = None) -> str:
        """Make the operator's phone ring with a call from `caller`; returns the PBX call id."""
        self.calls += 1
        call_id = call_id or f"call-{uuid.uuid4().hex[:8]}"
        await self.pbx(event="ringing", call_id=call_id, caller=caller,
                       extensions=[extension or self.user.extension or "201"])
        return call_id

    async def press(self, *keys: str) -> None:
        """Press keys on the page, counting each one as an operator keystroke."""
        for key in keys:
            self.pressed.append(key)
            await self.page.keyboard.press(key)

    async def type(self, text: str) -> None:
        """Type text, counting one keystroke per character."""
        self.pressed.extend(text)
        await self.page.keyboard.type(text)

    async def screenshot(self, name: str) -> None:
        """Save the screen as docs/screenshots/<name>.png when TAXICRM_SCREENSHOTS names the folder."""
        if SCREENSHOTS:
            await self.page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=False)


@pytest.fixture
async def open_console(browser: Browser, service: ServiceProcess, make_staff: Callable[..., Awaitable[StaffUser]]
                       ) -> AsyncIterator[Callable[..., Awaitable[Console]]]:
    """Factory: `await open_console("operator", lang="en")` signs a new staff member in through the login form."""
    sessions: list[aiohttp.ClientSession] = []
    counter = iter(range(1, 1000))

    async def open_(role: str = "operator", lang: str = "en", extension: str | None = "201",
                    viewport: tuple[int, int] = (1440, 900)) -> Console:
        n = next(counter)
        user = await make_staff(role, username=f"{role}{n}", extension=extension if role == "operator" else None)
        context = await browser.new_context(viewport={"width": viewport[0], "height": viewport[1]},
                                            locale="fa-IR" if lang == "fa" else "en-GB")
        await context.add_init_script(f"localStorage.setItem('taxicrm.lang', '{lang}')")
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda err: errors.append(str(err)))
        await page.goto(service.url + "/")
        await page.fill("input[name=username]", user.username)
        await page.fill("input[name=password]", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_selector(".live-status[data-status=online]")
        http = aiohttp.ClientSession()
        sessions.append(http)
        token = await log_in(http, service.url, user.username, PASSWORD)
        http.cookie_jar.clear()
        console = Console(page=page, user=user, service=service, http=http, token=token)
        page.on("close", lambda _: None)
        console.page_errors = errors  # type: ignore[attr-defined]
        return console

    yield open_
    for http in sessions:
        await http.close()
