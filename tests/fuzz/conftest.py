"""Fixtures of the fuzzers: one real service for a whole fuzz module, checked healthy after every test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fuzz.service import FuzzTarget, run_target


@pytest.fixture(scope="module")
def fuzz_target(postgres_server_url: str, template_database: str, redis_server_url: str,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzTarget]:
    """A real `taxicrm serve` for this module's fuzzing, on a database and a Redis of its own."""
    yield from run_target(postgres_server_url, template_database, redis_server_url,
                          Path(tmp_path_factory.mktemp("fuzz")))


@pytest.fixture
def target(fuzz_target: FuzzTarget) -> Iterator[FuzzTarget]:
    """The fuzz target; after the test it must still be healthy and must have logged no failure of ours."""
    fuzz_target.begin_test()
    yield fuzz_target
    fuzz_target.assert_healthy()
    assert fuzz_target.new_failures() == []
