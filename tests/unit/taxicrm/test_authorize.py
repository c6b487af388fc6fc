import pytest

from taxicrm.auth import PUBLIC, Principal, Role, authorize
from taxicrm.errors import Forbidden, NotAuthenticated

OPERATOR = Principal(role=Role.OPERATOR, id=1, name="Sara")


def test_public_lets_anyone_in():
    authorize(None, PUBLIC)


def test_anonymous_callers_must_log_in():
    with pytest.raises(NotAuthenticated):
        authorize(None, frozenset({Role.OPERATOR}))


def test_a_role_outside_the_allowed_ones_is_forbidden():
    with pytest.raises(Forbidden):
        authorize(OPERATOR, frozenset({Role.ADMIN}))


def test_a_handler_that_declares_nothing_is_refused_to_everyone():
    with pytest.raises(Forbidden):
        authorize(Principal(role=Role.ADMIN, id=1, name="Root"), None)


def test_an_allowed_role_passes():
    authorize(OPERATOR, frozenset({Role.OPERATOR, Role.SUPERVISOR}))
