"""Schemathesis over every operation of the OpenAPI document, as each kind of caller: never a 5xx.

Each operation is fuzzed (schema-valid and schema-breaking requests) as every caller its route lets in, and
knocked on once as every caller it does not, who must get a plain 401/403. After each test the service must
still be ready and must have logged no failure of its own (tests/fuzz/conftest.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from taxicrm.openapi import build_document
from tests.fuzz.callers import CALLERS, STAFF, allowed_callers
from tests.fuzz.service import WEBHOOK_SECRET, FuzzTarget

SCHEMA = schemathesis.openapi.from_dict(build_document())
OPERATIONS = {(op.method.lower(), op.path): op for op in (result.ok() for result in SCHEMA.get_all_operations())}
ALLOWED = allowed_callers()
PUBLIC = {key for key, callers in ALLOWED.items() if callers == frozenset(CALLERS)}
# Schemathesis's examples and coverage phases (boundary values, wrong types, odd content types) run in full; the
# random fuzzing phase gets a handful of examples, so the whole fuzz folder stays within minutes on two cores.
# Derandomized, so a CI failure reproduces on a laptop.
ALL_PHASES = ("examples", "coverage", "fuzzing")
FUZZ = settings(max_examples=10, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                       HealthCheck.function_scoped_fixture])


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


def is_fuzzed_as(caller: str, key: tuple[str, str]) -> bool:
    """Fuzz an operation as each caller its route lets in; the PBX, a machine, only where it is named."""
    return caller in ALLOWED[key] and not (caller == "pbx" and key in PUBLIC)


def fuzz_as(caller: str, phases: tuple[str, ...] = ALL_PHASES) -> Callable[..., None]:
    """Build the test that fuzzes, as this caller, every operation whose route lets them in."""
    # A schema of its own: the phases are configuration, which filtered copies of one schema share.
    schema = schemathesis.openapi.from_dict(build_document()).include(
        lambda ctx: is_fuzzed_as(caller, (ctx.operation.method.lower(), ctx.operation.path)))
    schema.config.phases.update(phases=list(phases))

    @schema.parametrize()
    @FUZZ
    def test(case: schemathesis.Case, target: FuzzTarget) -> None:
        response = case.call(base_url=target.url, headers=credentials(target, caller), timeout=10)
        case.validate_response(response, checks=[not_a_server_error])
        check_reply(response)

    return test


# Admins may call every staff route, so the coverage phase's many deterministic cases (the same for any role)
# run once, as an admin; operators and supervisors get the schema's examples and the random fuzzing.
test_no_request_of_an_admin_fails_on_our_side = fuzz_as("admin")
test_no_request_of_an_operator_fails_on_our_side = fuzz_as("operator", phases=("examples", "fuzzing"))
test_no_request_of_a_supervisor_fails_on_our_side = fuzz_as("supervisor", phases=("examples", "fuzzing"))
test_no_request_of_a_driver_fails_on_our_side = fuzz_as("driver")
test_no_request_of_the_pbx_fails_on_our_side = fuzz_as("pbx")
test_no_anonymous_request_fails_on_our_side = fuzz_as("anonymous")


def _refused_pairs() -> list[Any]:
    return [pytest.param(key, caller, id=f"{key[0].upper()} {key[1]} as {caller}")
            for key in sorted(OPERATIONS) for caller in CALLERS if caller not in ALLOWED[key]]


def test_every_documented_operation_is_a_route_and_fuzzed() -> None:
    assert set(OPERATIONS) == set(ALLOWED)
    # Only the customer's socket lets in none of our callers: it takes a ride's tracking token, and is fuzzed with
    # one in test_driver_protocol_fuzz.py.
    assert [key for key in OPERATIONS if not ALLOWED[key]] == [("get", "/ws/rider")]
    # The coverage phase runs as an admin only: that covers every operation any staff member may call.
    assert all("admin" in ALLOWED[key] for key in OPERATIONS if ALLOWED[key] & set(STAFF))


@pytest.mark.parametrize(("key", "caller"), _refused_pairs())
def test_a_caller_the_route_does_not_let_in_is_refused(key: tuple[str, str], caller: str, target: FuzzTarget) -> None:
    method, template = key
    path = re.sub(r"\{[^}]+\}", "1", template)
    response = requests.request(method, target.url + path, headers=credentials(target, caller), timeout=10)
    check_reply(response)
    assert response.status_code == (401 if caller == "anonymous" else 403), response.text[:300]
