"""Clocks, injectable so tests and benchmarks can move time."""

from __future__ import annotations

import time
from collections.abc import Callable

#: Wall clock (seconds since the epoch): compared with ``exp``/``iat`` claims.
wall: Callable[[], float] = time.time
#: Monotonic clock: measures how long a fetched token has lived.
monotonic: Callable[[], float] = time.monotonic


def now() -> float:
    return wall()


def mono() -> float:
    return monotonic()
