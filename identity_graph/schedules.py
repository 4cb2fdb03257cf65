"""The daily refresh: each day, once it is complete, the newest event day and the tables derived from it.

The ``refresh_event_day`` job selects content_engagements and everything downstream of it — the
three daily event tables, for one partition, and the three derived tables, which summarise the
``days`` days ending on ``generation.end_date`` — and nothing upstream: households, individuals,
identity_mappings and campaigns are read from storage as they are.

The ``daily_event_refresh`` schedule ticks at 00:00 UTC. A tick at T requests the newest
complete day before T (the last daily partition at T: yesterday in UTC), with
``generation.end_date`` set to that day so the derived tables' window ends on the day just
written (``seed``, ``days`` and ``input_partitions`` stay as the code location configures the
``generation`` resource), and with a run key naming the day: the daemon finds the run of a tick
it evaluates again (after a crash or error) by schedule, tick time and run key, and launches no
second one; with one tick a day, each day is refreshed once. It is off until turned on.

The run config comes from the schedule rather than from a ``PartitionedConfig`` on the job:
Dagster refuses a ``PartitionedConfig`` on a job whose assets backfill several partitions per
run, as the event tables do (``BackfillPolicy.single_run``).

There is deliberately no sensor or automation condition on the derived tables: the scheduled
run already rebuilds them after the event day, and a run launched by declarative automation
carries no run config, so it would rebuild them over the code location's default window
(``end_date`` 2026-10-31) rather than the newest day (README, "Schedules and automation").
"""

import datetime as dt
from typing import Any

import dagster as dg

from identity_graph.assets.engagement import content_engagements
from identity_graph.partitions import daily_partitions

DAILY_REFRESH_JOB = "refresh_event_day"
DAILY_REFRESH_SCHEDULE = "daily_event_refresh"
#: Every day at 00:00 UTC, when the previous day's partition is complete: the partitions' own cadence.
DAILY_REFRESH_CRON = daily_partitions.get_cron_schedule()

#: content_engagements and everything downstream: the three event tables (one day) and the three derived tables.
DAILY_REFRESH_SELECTION = dg.AssetSelection.assets(content_engagements).downstream()


def newest_complete_day(at: dt.datetime) -> str | None:
    """The key of the newest daily partition that has ended by ``at`` (the UTC day before it; None before the first)."""
    with dg.partition_loading_context(effective_dt=at):
        return daily_partitions.get_last_partition_key()


def run_key_for_day(partition_key: str) -> str:
    """The run key of the refresh of one day: the same on every evaluation of a tick for that day."""
    return f"daily-refresh-{partition_key}"


def run_config_for_day(partition_key: str) -> dict[str, Any]:
    """Run config of the refresh of one event day: the generated window ends on that day."""
    return {"resources": {"generation": {"config": {"end_date": partition_key}}}}


daily_refresh_job = dg.define_asset_job(
    DAILY_REFRESH_JOB,
    selection=DAILY_REFRESH_SELECTION,
    description="Generate one event day of content_engagements, campaign_exposures and response_events, then rebuild "
    "viewership_patterns, audience_attributes and outcome_metrics over the days ending on "
    "resources.generation.config.end_date — set it to the partition's day when launching by hand (the "
    "daily_event_refresh schedule does). Households, individuals, identity_mappings and campaigns are read from "
    "storage, not regenerated.",
)


@dg.schedule(
    name=DAILY_REFRESH_SCHEDULE,
    job=daily_refresh_job,
    cron_schedule=DAILY_REFRESH_CRON,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Every day at 00:00 UTC, refresh the day that just ended and the tables derived from it, with "
    "generation.end_date = that day. The run key names the day: a tick evaluated again after a crash or error "
    "finds its run and launches no second one. Off until turned on.",
)
def daily_refresh_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    """The run request for the newest complete day at the tick's scheduled time (skip before the first partition)."""
    day = newest_complete_day(context.scheduled_execution_time)
    if day is None:
        return dg.SkipReason(f"No event day has ended yet (the first partition is {daily_partitions.start.date()}).")
    return dg.RunRequest(partition_key=day, run_key=run_key_for_day(day), run_config=run_config_for_day(day))
