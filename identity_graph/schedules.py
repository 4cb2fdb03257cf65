"""The daily refresh: each day, once it is complete, the newest event day and the tables derived from it.

The ``refresh_event_day`` job is partitioned by event day. It selects content_engagements and
everything downstream of it — the daily event tables (content_engagements, campaign_exposures,
response_events, conversion_truth), for the run's day, and the derived tables, which summarise
the ``days`` days ending on it (campaign_assignments follows audience_attributes: a person's
group never changes, eligibility follows their newest primary segment) — and nothing upstream:
households, individuals, identity_mappings, audience_truth and campaigns are read from storage
as they are.
The run carries no config of its own: each table is generated with the config it was
generated with before (recorded with the table), so a refreshed day continues the graph.

The ``daily_event_refresh`` schedule is Dagster's schedule of that partitioned job: at 00:00
UTC it requests the day that just ended, with the day as its run key (a tick evaluated again
after a crash finds its run and launches no second one). It is off until turned on.
``identity-graph refresh --day D`` runs the same job for one day from the command line.
"""

import dagster as dg

from identity_graph.assets.engagement import content_engagements
from identity_graph.partitions import daily_partitions

DAILY_REFRESH_JOB = "refresh_event_day"
DAILY_REFRESH_SCHEDULE = "daily_event_refresh"
#: Every day at 00:00 UTC, when the previous day's partition is complete: the partitions' own cadence.
DAILY_REFRESH_CRON = daily_partitions.get_cron_schedule()

#: content_engagements and everything downstream: the event tables (one day) and the derived tables.
DAILY_REFRESH_SELECTION = dg.AssetSelection.assets(content_engagements).downstream()

daily_refresh_job = dg.define_asset_job(
    DAILY_REFRESH_JOB,
    selection=DAILY_REFRESH_SELECTION,
    partitions_def=daily_partitions,
    description="Generate one event day of content_engagements, campaign_exposures, response_events and "
    "conversion_truth, then rebuild viewership_patterns, audience_attributes, campaign_assignments, outcome_metrics, "
    "campaign_truth and campaign_delivery over the days ending on it, each with the config the stored table was "
    "generated with. "
    "Households, individuals, identity_mappings, audience_truth and campaigns are read from storage, not "
    "regenerated.",
)

daily_refresh_schedule = dg.build_schedule_from_partitioned_job(
    daily_refresh_job,
    name=DAILY_REFRESH_SCHEDULE,
    description="Every day at 00:00 UTC, refresh the day that just ended and the tables derived from it, with the "
    "graph's recorded config. The run key is the day: a tick evaluated again after a crash or error finds its run "
    "and launches no second one. Off until turned on.",
    hour_of_day=0,
    minute_of_hour=0,
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
