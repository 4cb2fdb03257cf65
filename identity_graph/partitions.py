"""Daily partitions of the event tables, and how the derived tables map onto them."""

import datetime as dt

import dagster as dg

from identity_graph.model import EVENT_TABLES

#: First day a partition exists for. Runs pick their days inside [EVENTS_START, yesterday].
EVENTS_START = "2025-01-01"
#: The last day of the window of a run that names no day on a warehouse holding no graph yet
#: (a run of households alone, say), and the command line's default --end-date.
DEFAULT_LAST_DAY = dt.date(2026, 10, 31)
#: Responses follow their exposure by at most this many days (ResponsesConfig caps the
#: attribution window at 168 hours), so a response day reads this many exposure days back.
MAX_ATTRIBUTION_DAYS = 7

daily_partitions = dg.DailyPartitionsDefinition(start_date=EVENTS_START, timezone="UTC")
#: Run tags naming the days of a run: one day, or the range of a single-run backfill.
PARTITION_TAGS = ("dagster/partition", "dagster/asset_partition_range_start")

#: response_events day d reads campaign_exposures days d − 7 … d.
exposures_for_responses = dg.TimeWindowPartitionMapping(start_offset=-MAX_ATTRIBUTION_DAYS, end_offset=0)


def event_tables_without_days(run: dg.DagsterRun, instance: dg.DagsterInstance) -> list[str]:
    """The event tables ``run`` would write although it names no day (no partition tags): a
    launchpad run of a whole job, say. Empty when it names its days or writes no event table."""
    if any(tag in run.tags for tag in PARTITION_TAGS):
        return []
    steps = run.step_keys_to_execute
    if steps is None and run.execution_plan_snapshot_id:
        try:
            plan = instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id)
        except Exception:  # noqa: BLE001 - e.g. a step launched remotely without the run's storage: nothing to tell
            return []
        steps = plan.step_keys_to_execute or [step.key for step in plan.steps]
    planned = set(steps or ())
    return [table for table in EVENT_TABLES if table in planned]


def run_last_day(tags: dict[str, str]) -> dt.date | None:
    """The last event day a run names in its tags (one partition, or a range), or None."""
    day = tags.get("dagster/asset_partition_range_end") or tags.get("dagster/partition")
    return dt.date.fromisoformat(day) if day else None


def partition_days(window: dg.TimeWindow) -> list[dt.date]:
    """The calendar days of a partition time window (end exclusive)."""
    first, end = window.start.date(), window.end.date()
    return [first + dt.timedelta(days=i) for i in range((end - first).days)]


def partition_key_range(end_date: dt.date, days: int) -> dg.PartitionKeyRange:
    """The partition keys of the ``days`` days ending on ``end_date``."""
    start = end_date - dt.timedelta(days=days - 1)
    return dg.PartitionKeyRange(start.isoformat(), end_date.isoformat())
