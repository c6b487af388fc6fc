"""Running the service's event loop: uvloop where it is installed (Linux and macOS), asyncio's own elsewhere."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_fast(main: Coroutine[Any, Any, T]) -> T:
    """Run `main` to completion on the fastest event loop available."""
    try:
        import uvloop
    except ImportError:  # Windows: uvloop has no build there, and asyncio's loop does the same job, slower.
        return asyncio.run(main)
    return uvloop.run(main)
