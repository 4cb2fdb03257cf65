"""Run parameters: what every generator needs besides its table's config."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

#: Daily event partitions read at most seven days back for a response's exposure.
MAX_ATTRIBUTION_WINDOW_HOURS = 168.0


@dataclass(frozen=True)
class RunParameters:
    """What every generator needs besides its table's config.

    ``seed`` drives every random draw; ``end_date`` is the last day of the simulated
    window of ``days`` days (timestamps are derived from it, never from the clock);
    ``partitions`` is the number of input partitions for the root ranges (``None``:
    Spark's default parallelism). Output does not depend on ``partitions``.
    ``attribution_window_hours`` is the one attribution window of the run: the longest
    time from an exposure to its response, and how far before a conversion its touches
    count. The ``generation`` resource sets these from its run config.
    """

    seed: int = 42
    end_date: dt.date = dt.date(2026, 10, 31)
    days: int = 30
    partitions: int | None = None
    attribution_window_hours: float = MAX_ATTRIBUTION_WINDOW_HOURS

    @property
    def window_start(self) -> dt.date:
        """First day of the simulated event window."""
        return self.end_date - dt.timedelta(days=self.days - 1)

    @property
    def window_start_epoch(self) -> int:
        """Epoch seconds of the window's first instant (UTC)."""
        return epoch_seconds(self.window_start)

    @property
    def end_epoch(self) -> int:
        """Epoch seconds just after the window's last instant (UTC midnight after end_date)."""
        return epoch_seconds(self.end_date + dt.timedelta(days=1))


def epoch_seconds(day: dt.date) -> int:
    """UTC midnight of ``day`` in epoch seconds."""
    return calendar.timegm(day.timetuple())
