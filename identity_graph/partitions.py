"""Daily partitions of the event tables, and how the derived tables map onto them."""

import datetime as dt

import dagster as dg
from dagster._core.definitions.assets.definition.asset_spec import AssetExecutionType

from identity_graph.model import EVENT_TABLES, TABLE_NAMES

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


def tables_written(run: dg.DagsterRun, instance: dg.DagsterInstance) -> list[str]:
    """The tables ``run`` writes: the table outputs its execution plan materialises, in model
    order. A table's step also runs its checks; in a run of checks alone the table output is not
    executed, so such a run writes none. Empty when the plan cannot be read (a step launched
    remotely without the run's storage)."""
    if not run.execution_plan_snapshot_id:
        return []
    try:
        plan = instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id)
    except Exception:  # noqa: BLE001 - nothing to tell
        return []
    if plan is None:  # on a cluster, the step's instance holds no plan
        return []
    keys = None if run.step_keys_to_execute is None else set(run.step_keys_to_execute)
    written = {
        output.name
        for step in plan.steps
        if keys is None or step.key in keys
        for output in step.outputs
        if output.properties is not None
        and output.properties.asset_execution_type == AssetExecutionType.MATERIALIZATION
    }
    return [table for table in TABLE_NAMES if table in written]


def event_tables_without_days(run: dg.DagsterRun, instance: dg.DagsterInstance) -> list[str]:
    """The event tables ``run`` would write although it names no day (no partition tags): a
    launchpad run of a whole job, say. Empty when it names its days or writes no event table."""
    if any(tag in run.tags for tag in PARTITION_TAGS):
        return []
    written = set(tables_written(run, instance))
    return [table for table in EVENT_TABLES if table in written]


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
