"""Daily partitions of the event tables, and how the derived tables map onto them."""

import datetime as dt

import dagster as dg

#: First day a partition exists for. Runs pick their days inside [EVENTS_START, yesterday].
EVENTS_START = "2025-01-01"
#: The partition column of every event table.
EVENT_DATE = "event_date"
#: Responses follow their exposure by at most this many days (ResponsesConfig caps the
#: attribution window at 168 hours), so a response day reads this many exposure days back.
MAX_ATTRIBUTION_DAYS = 7

daily_partitions = dg.DailyPartitionsDefinition(start_date=EVENTS_START, timezone="UTC")

#: response_events day d reads campaign_exposures days d − 7 … d.
exposures_for_responses = dg.TimeWindowPartitionMapping(start_offset=-MAX_ATTRIBUTION_DAYS, end_offset=0)


def partition_days(window: dg.TimeWindow) -> list[dt.date]:
    """The calendar days of a partition time window (end exclusive)."""
    first, end = window.start.date(), window.end.date()
    return [first + dt.timedelta(days=i) for i in range((end - first).days)]


def partition_key_range(end_date: dt.date, days: int) -> dg.PartitionKeyRange:
    """The partition keys of the ``days`` days ending on ``end_date``."""
    start = end_date - dt.timedelta(days=days - 1)
    return dg.PartitionKeyRange(start.isoformat(), end_date.isoformat())
