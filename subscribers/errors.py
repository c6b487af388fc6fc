"""Errors of the subscriber records."""

from __future__ import annotations

from taxicrm.errors import Conflict, InvalidInput, NotFound


class InvalidPhone(InvalidInput):
    """A phone number that cannot be normalized; the message quotes it and says why."""

    code = "invalid_phone"

    def __init__(self, raw: str, reason: str) -> None:
        super().__init__(f"'{raw}' is not a usable phone number: {reason}.")
        self.reason = reason


class SubscriberNotFound(NotFound):
    """No subscriber has this id."""

    code = "subscriber_not_found"

    def __init__(self, subscriber_id: int) -> None:
        super().__init__(f"There is no subscriber {subscriber_id}.")


class SubscriberMerged(NotFound):
    """The subscriber was merged into another; the kept one is where its records now live."""

    code = "subscriber_merged"

    def __init__(self, subscriber_id: int, kept_id: int) -> None:
        super().__init__(f"Subscriber {subscriber_id} was merged into subscriber {kept_id}; open that one instead.")
        self.kept_id = kept_id


class PhoneNotFound(NotFound):
    """The subscriber has no phone with this id."""

    code = "phone_not_found"

    def __init__(self, phone_id: int | str) -> None:
        super().__init__(f"This subscriber has no phone {phone_id}.")


class AddressNotFound(NotFound):
    """The subscriber has no address with this id."""

    code = "address_not_found"

    def __init__(self, address_id: int | str) -> None:
        super().__init__(f"This subscriber has no address {address_id}.")


class NoteNotFound(NotFound):
    """The subscriber has no note with this id."""

    code = "note_not_found"

    def __init__(self, note_id: int | str) -> None:
        super().__init__(f"This subscriber has no note {note_id}.")


class PhoneTaken(Conflict):
    """The number already belongs to another subscriber: one number, one card."""

    code = "phone_taken"

    def __init__(self, e164: str, owner_id: int | None = None, owner_name: str | None = None) -> None:
        owner = "" if owner_id is None else f" (subscriber {owner_id}{', ' + owner_name if owner_name else ''})"
        super().__init__(f"{e164} already belongs to another subscriber{owner}. "
                         "Remove it there first, or merge the two if they are one person.")
        self.owner_id = owner_id


class PhoneAlreadyListed(Conflict):
    """The subscriber already has this number."""

    code = "phone_already_listed"

    def __init__(self, e164: str) -> None:
        super().__init__(f"This subscriber already has {e164}.")


class LastPhone(Conflict):
    """Removing the number would leave the subscriber with none."""

    code = "last_phone"

    def __init__(self) -> None:
        super().__init__("A subscriber keeps at least one phone: add the new number before removing this one.")


class AlreadyBlocked(Conflict):
    """The subscriber is blocked already; unblock first to block with another reason."""

    code = "already_blocked"

    def __init__(self, subscriber_id: int) -> None:
        super().__init__(f"Subscriber {subscriber_id} is already blocked.")


class NotBlocked(Conflict):
    """The subscriber is not blocked, so there is nothing to unblock."""

    code = "not_blocked"

    def __init__(self, subscriber_id: int) -> None:
        super().__init__(f"Subscriber {subscriber_id} is not blocked.")


class MergeRefused(Conflict):
    """A merge that cannot be done: into itself, or with a subscriber already merged away."""

    code = "merge_refused"
