"""Retry with exponential backoff for transient storage failures."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

#: Text that marks a failure as transient: network blips, throttling, unavailable storage.
#: Deliberately narrow: config errors, permission errors and Delta's concurrent-write
#: conflicts are not retried — a retry would only hide them.
TRANSIENT_MARKERS = (
    "SocketTimeoutException",
    "Connection reset",
    "Connection refused",
    "ConnectException",
    "Read timed out",
    "TEMPORARILY_UNAVAILABLE",
    "ServiceUnavailable",
    "503 Service Unavailable",
    "429 Too Many Requests",
    "SlowDown",
    "Throttl",
)


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` (or an exception it was raised from) looks transient."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        text = f"{type(current).__name__}: {current}"
        if any(marker in text for marker in TRANSIENT_MARKERS):
            return True
        current = current.__cause__ or current.__context__
    return False


def retry_transient(
    action: Callable[[], T],
    *,
    attempts: int,
    base_delay: float,
    describe: str,
    log: Callable[[str], None] = lambda _msg: None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``action``; on a transient failure wait ``base_delay * 2**k`` seconds and try again.

    Non-transient failures, and the last transient one, propagate unchanged.
    """
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except Exception as error:
            if attempt == attempts or not is_transient(error):
                raise
            delay = base_delay * 2 ** (attempt - 1)
            log(
                f"{describe}: transient failure on attempt {attempt}/{attempts} ({type(error).__name__}); retrying in {delay:.1f}s"
            )
            sleep(delay)
    raise AssertionError("unreachable")
