import pytest

from callcenter.accounts import check_new_account, new_session_token, normalize_username, token_hash
from callcenter.errors import InvalidAccount


def test_usernames_compare_case_insensitively():
    assert normalize_username("  Maryam.K ") == "maryam.k"


@pytest.mark.parametrize(
    ("username", "role", "password", "extension"),
    [
        ("a", "operator", "long enough pw", None),
        ("has space", "operator", "long enough pw", None),
        ("sara", "driver", "long enough pw", None),
        ("sara", "operator", "short", None),
        ("sara", "operator", "long enough pw", "12a"),
    ],
)
def test_new_accounts_breaking_a_rule_are_refused(username, role, password, extension):
    with pytest.raises(InvalidAccount):
        check_new_account(username, role, password, extension)


def test_a_good_account_passes():
    check_new_account("sara_k", "supervisor", "long enough pw", "204")


def test_session_tokens_are_random_and_stored_as_hashes():
    first, second = new_session_token(), new_session_token()
    assert first != second and first.startswith("s_") and len(first) > 40
    assert token_hash(first) != first.encode() and len(token_hash(first)) == 32
