"""Schemathesis over every operation of the OpenAPI document, as each kind of caller: never a 5xx.

Each operation is fuzzed (schema-valid and schema-breaking requests) as every caller its route lets in, and
knocked on once as every caller it does not, who must get a plain 401/403. After each test the service must
still be ready and must have logged no failure of its own (tests/fuzz/conftest.py).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from taxicrm.openapi import build_document
from tests.fuzz.callers import CALLERS, STAFF, allowed_callers
from tests.fuzz.service import WEBHOOK_SECRET, FuzzTarget

SCHEMA = schemathesis.openapi.from_dict(build_document())
OPERATIONS = {(op.method.lower(), op.path): op for op in (result.ok() for result in SCHEMA.get_all_operations())}
ALLOWED = allowed_callers()
# A handful of examples per operation and caller keeps the whole fuzz folder within minutes on two cores;
# derandomized, so a CI failure reproduces on a laptop.
FUZZ = settings(max_examples=8, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                       HealthCheck.function_scoped_fixture])


def _pairs(allowed: bool) -> list[Any]:
    return [pytest.param(key, caller, id=f"{key[0].upper()} {key[1]} as {caller}")
            for key in sorted(OPERATIONS) for caller in CALLERS
            if (caller in ALLOWED[key]) is allowed]


def credentials(target: FuzzTarget, caller: str) -> dict[str, str]:
    """Return the headers that make a request come from this kind of caller."""
    if caller in STAFF:
        return target.staff_headers(caller)
    if caller == "driver":
        return {"Authorization": f"Bearer {target.driver_token()}"}
    if caller == "pbx":
        return {"X-Taxicrm-Secret": WEBHOOK_SECRET}
    return {}


def check_reply(response: requests.Response) -> None:
    """Nothing is a 5xx; refusals are 4xx in the one error envelope."""
    assert response.status_code < 500, f"{response.status_code}: {response.text[:500]}"
    if response.status_code >= 400:
        body: Any = response.json()
        assert isinstance(body, dict) and set(body) == {"error"}, response.text[:500]
        assert isinstance(body["error"].get("code"), str) and isinstance(body["error"].get("message"), str)


def test_every_documented_operation_is_a_route_and_fuzzed() -> None:
    assert set(OPERATIONS) == set(ALLOWED)
    # Only the customer's socket lets in none of our callers: it takes a ride's tracking token, and is fuzzed with
    # one in test_driver_protocol_fuzz.py.
    assert [key for key in OPERATIONS if not ALLOWED[key]] == [("get", "/ws/rider")]


@pytest.mark.parametrize(("key", "caller"), _pairs(allowed=True))
def test_no_request_fails_on_our_side(key: tuple[str, str], caller: str, target: FuzzTarget) -> None:
    operation, headers = OPERATIONS[key], credentials(target, caller)
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @FUZZ
    @given(case=cases)
    def call(case: schemathesis.Case) -> None:
        response = case.call(base_url=target.url, headers=headers, timeout=10)
        case.validate_response(response, checks=[not_a_server_error])
        check_reply(response)

    call()


@pytest.mark.parametrize(("key", "caller"), _pairs(allowed=False))
def test_a_caller_the_route_does_not_let_in_is_refused(key: tuple[str, str], caller: str, target: FuzzTarget) -> None:
    method, template = key
    path = re.sub(r"\{[^}]+\}", "1", template)
    response = requests.request(method, target.url + path, headers=credentials(target, caller), timeout=10)
    check_reply(response)
    assert response.status_code == (401 if caller == "anonymous" else 403), response.text[:300]
