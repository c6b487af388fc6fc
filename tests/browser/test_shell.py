"""The console's shell: sign-in, the live connection, the pages and their keys, the language switch."""

from collections.abc import Awaitable, Callable

from tests.browser.conftest import Console


async def test_signing_in_opens_the_calls_page_with_a_live_connection(open_console: Callable[..., Awaitable[Console]]
                                                                     ) -> None:
    console = await open_console("operator", lang="en")
    page = console.page
    assert await page.get_attribute("html", "dir") == "ltr"
    assert await page.is_visible("#page-calls")
    await console.press("F2")
    await page.wait_for_selector("#page-board:not([hidden])")
    assert await page.is_hidden("#page-calls")
    assert not console.page_errors  # type: ignore[attr-defined]


async def test_a_wrong_password_is_refused_on_the_form(open_console: Callable[..., Awaitable[Console]]) -> None:
    console = await open_console("operator")
    page = console.page
    await page.click("button.logout")
    await page.wait_for_selector("input[name=username]")
    await page.fill("input[name=username]", console.user.username)
    await page.fill("input[name=password]", "wrong password")
    await page.click("button[type=submit]")
    await page.wait_for_selector(".form-error:not(:empty)")
    assert await page.is_visible("input[name=password]")
