"""Errors of the call center's accounts."""

from __future__ import annotations

from taxicrm.errors import Conflict, DomainError, InvalidInput, TooManyRequests


class InvalidCredentials(DomainError):
    """Username and password do not match an active account."""

    status = 401
    code = "invalid_credentials"

    def __init__(self) -> None:
        super().__init__("Wrong username or password.")


class TooManyLoginFailures(TooManyRequests):
    """Too many failed logins for this user or address; wait and try again."""

    code = "too_many_login_attempts"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"Too many failed logins. Try again in {retry_after} seconds.", retry_after=retry_after
        )


class UsernameTaken(Conflict):
    """Another account already has this username."""

    code = "username_taken"

    def __init__(self, username: str) -> None:
        super().__init__(f"The username '{username}' is already taken.")


class InvalidAccount(InvalidInput):
    """A new account's details break a rule (username shape, role, password length)."""

    code = "invalid_account"
