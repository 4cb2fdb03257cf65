"""The campaign family: campaigns, their exposures, the responses they cause, and attribution.

Exposures and responses are generated for a list of days, and a day's rows are a
function of that day alone: every draw is keyed by (campaign, individual, exposure
ordinal) or by exposure_id, never by the position of a row among the requested days,
and ids are numbered within their day (``day_scoped_key``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import lru_cache

from faker import Faker
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from identity_graph.config.campaigns import CampaignsConfig, OutcomesConfig
from identity_graph.config.run import RunParameters
from identity_graph.generation import random as R
from identity_graph.generation.common import (
    day_number,
    day_scoped_key,
    generates,
    key_range,
    timestamp_at,
    with_contiguous_ids,
)
from identity_graph.model.tables import (
    CAMPAIGN_ASSIGNMENTS,
    CAMPAIGN_DELIVERY,
    CAMPAIGN_EXPOSURES,
    OUTCOME_METRICS,
    RESPONSE_EVENTS,
)
from identity_graph.model.tables import (
    CAMPAIGNS as CAMPAIGNS_TABLE,
)
from identity_graph.model.vocabularies import CHANNEL_IDENTIFIER, PLACEMENTS

CAMPAIGNS = CAMPAIGNS_TABLE.name
ASSIGNMENTS = CAMPAIGN_ASSIGNMENTS.name
EXPOSURES = CAMPAIGN_EXPOSURES.name
DELIVERY = CAMPAIGN_DELIVERY.name
RESPONSES = RESPONSE_EVENTS.name

CAMPAIGN_THEMES = (
    "Spring Launch",
    "Summer Sale",
    "Back to School",
    "Fall Refresh",
    "Holiday Push",
    "Brand Lift",
    "New Product",
    "Loyalty Drive",
    "Always-On",
    "Retargeting",
    "Clearance",
    "Awareness Burst",
)
#: Distinct advertisers in the seeded pool: fewer than campaigns at scale, so advertisers repeat.
ADVERTISERS_PER_POOL = 60
#: A campaign is set up 1 to this many days before its flight starts.
CREATED_LEAD_DAYS = 60
#: Beyond its main segment, a campaign targets each other configured segment with this probability.
EXTRA_SEGMENT_RATE = 0.3
#: Relative exposure volume per hour of day (UTC): low overnight, a lunchtime bump, an evening peak.
EXPOSURE_HOUR_WEIGHTS = (
    0.020, 0.012, 0.008, 0.006, 0.006, 0.010, 0.020, 0.032, 0.040, 0.042, 0.044, 0.046,
    0.052, 0.048, 0.044, 0.044, 0.048, 0.056, 0.066, 0.074, 0.078, 0.074, 0.056, 0.034,
)  # fmt: skip
#: Hour-of-day slots: drawing a slot uniformly draws an hour by EXPOSURE_HOUR_WEIGHTS (to 0.1 %).
HOUR_SLOTS = 1000
#: An impression costs cpm/1000 scaled by a uniform factor in [1 − spread, 1 + spread].
COST_SPREAD = 0.3
#: Mean hours from exposure to each kind of response (an exponential truncated at the
#: attribution window): clicks come at once, conversions take a day or so.
RESPONSE_DELAY_MEAN_HOURS = {"click": 0.1, "engagement": 0.5, "visit": 6.0, "conversion": 24.0}
#: engagement_score = half the touch's status level + half its recency (2^(−Δt/half-life)).
STATUS_LEVEL = {"converted": 1.0, "engaged": 0.5, "no_action": 0.0}
#: (campaign, individual) pairs are ordered by ``campaign_id * 2^37 + individual_id``: below
#: 2^53 for campaign_id ≤ 65,535 (CampaignsConfig's bound) and individual_id < 2^37.
PAIR_KEY_SHIFT = 1 << 37
MAX_VALUE_12_2 = 9_999_999_999.99
SECONDS_PER_DAY = 86_400


@lru_cache(maxsize=8)
def advertiser_pool(seed: int) -> tuple[str, ...]:
    """Seeded, de-duplicated Faker company names: the advertisers campaigns pick from."""
    fake = Faker("en_US")
    fake.seed_instance(seed)
    seen: dict[str, None] = {}
    # Faker's company patterns are combinatorial, but stop after enough tries rather than loop forever.
    for _ in range(ADVERTISERS_PER_POOL * 20):
        seen.setdefault(fake.company(), None)
        if len(seen) == ADVERTISERS_PER_POOL:
            break
    return tuple(seen)


def _hour_slots() -> list[int]:
    total = sum(EXPOSURE_HOUR_WEIGHTS)
    slots: list[int] = []
    cumulative = 0.0
    for hour, weight in enumerate(EXPOSURE_HOUR_WEIGHTS):
        cumulative += weight
        while len(slots) < round(HOUR_SLOTS * cumulative / total):
            slots.append(hour)
    return slots


def _day_numbers(days: Sequence[dt.date]) -> list[int]:
    epoch = dt.date(1970, 1, 1)
    return sorted({(d - epoch).days for d in days})


def _on_days(day: Column, day_numbers: list[int]) -> Column:
    return day.isin(day_numbers) if day_numbers else F.lit(False)


def _epoch_day(epoch_seconds: Column) -> Column:
    return F.floor(epoch_seconds / F.lit(SECONDS_PER_DAY))


def held_identifiers(identity_mappings: DataFrame) -> DataFrame:
    """Per individual, ``_held``: their identifiers as (mapping_id, identifier_type, first, last) structs,
    first and last in epoch seconds, sorted by mapping_id — so a hashed pick among them is stable."""
    return identity_mappings.groupBy("individual_id").agg(
        F.array_sort(
            F.collect_list(
                F.struct(
                    F.col("mapping_id").alias("mapping_id"),
                    F.col("identifier_type").alias("identifier_type"),
                    F.unix_seconds("first_seen").alias("first"),
                    F.unix_seconds("last_seen").alias("last"),
                )
            )
        ).alias("_held")
    )


@generates(CAMPAIGNS_TABLE)
def generate_campaigns(spark: SparkSession, config: CampaignsConfig, params: RunParameters) -> DataFrame:
    """Exactly ``config.num_campaigns`` campaigns keyed 1..N.

    Each flight lasts ``duration_min_days``..``duration_max_days`` days (inclusive) and
    overlaps the event window by at least one day. The main channel is drawn by
    ``channel_weights`` and each other channel joins with probability equal to its
    weight; the target is one configured segment plus each other with probability
    ``EXTRA_SEGMENT_RATE``. CPMs and target_reach are uniform in their ranges. The
    table carries ``frequency_mean``, ``holdout_share`` and ``pacing_share`` as
    configured, so assignments, exposures and delivery need no config. created_at lies
    1–60 days before the flight. Budgets follow from the audience the campaign reaches
    (:func:`generate_campaign_delivery`).
    """
    seed = params.seed
    key = "campaign_id"

    def u(column: str) -> Column:
        return R.uniform(seed, CAMPAIGNS, column, key)

    channel_weights = {c: w for c, w in config.channel_weights.items() if w > 0}
    main_channel = R.categorical(u("channel"), channel_weights)
    channels = F.filter(
        F.array(
            *[
                F.when((F.col("_main_channel") == c) | (u(f"channel:{c}") < F.lit(w)), F.lit(c))
                for c, w in channel_weights.items()
            ]
        ),
        lambda c: c.isNotNull(),
    )
    segments = list(config.target_segments)
    main_segment = R.pick(u("target_segment"), segments)
    target_segment = F.filter(
        F.array(
            *[
                F.when((F.col("_main_segment") == s) | (u(f"target_segment:{s}") < F.lit(EXTRA_SEGMENT_RATE)), F.lit(s))
                for s in segments
            ]
        ),
        lambda s: s.isNotNull(),
    )

    duration = F.col("_duration")
    # Start in [window_start − (duration − 1), end_date]: every flight shares at least one day with the window.
    start_offset = F.floor(u("start_date") * (F.lit(params.days) + duration - F.lit(1))).cast("int") - (
        duration - F.lit(1)
    )
    cpm = F.greatest(F.round(F.lit(config.cpm_min) + u("cpm") * F.lit(config.cpm_max - config.cpm_min), 2), F.lit(0.01))
    reach = F.lit(config.target_reach_min) + u("target_reach") * F.lit(
        config.target_reach_max - config.target_reach_min
    )
    start_epoch = day_number(F.col("start_date")) * F.lit(SECONDS_PER_DAY)
    created_epoch = (
        start_epoch
        - F.lit(SECONDS_PER_DAY)
        - F.floor(u("created_at") * F.lit((CREATED_LEAD_DAYS - 1) * SECONDS_PER_DAY))
    )

    frame = (
        key_range(spark, config.num_campaigns, key, params.partitions)
        .withColumn(
            "_duration",
            R.uniform_int(seed, CAMPAIGNS, "duration", config.duration_min_days, config.duration_max_days, key),
        )
        .withColumn("_main_channel", main_channel)
        .withColumn("_main_segment", main_segment)
        .withColumn("start_date", F.date_add(F.lit(params.window_start), start_offset))
        .withColumn("end_date", F.date_add(F.col("start_date"), duration - F.lit(1)))
        .withColumn("advertiser", R.pick(u("advertiser"), advertiser_pool(seed)))
    )
    name = F.concat_ws(
        " ",
        F.col("advertiser"),
        F.lit("–"),
        R.pick(u("theme"), CAMPAIGN_THEMES),
        F.date_format("start_date", "MMM yyyy"),
    )
    return frame.select(
        key,
        name.alias("campaign_name"),
        "advertiser",
        "start_date",
        "end_date",
        target_segment.alias("target_segment"),
        channels.alias("channels"),
        R.categorical(u("goal"), {g: w for g, w in config.goal_weights.items() if w > 0}).alias("goal"),
        reach.alias("target_reach"),
        F.lit(config.frequency_cap).cast("int").alias("frequency_cap"),
        F.lit(float(config.frequency_mean)).alias("frequency_mean"),
        F.lit(float(config.holdout_share)).alias("holdout_share"),
        cpm.cast("decimal(8,2)").alias("cpm"),
        F.lit(float(config.pacing_share)).alias("pacing_share"),
        timestamp_at(created_epoch).alias("created_at"),
    )


def pair_key(campaign_id: Column, individual_id: Column) -> Column:
    """The BIGINT key of a (campaign, individual) pair: campaign_id × 2^37 + individual_id."""
    return (campaign_id * F.lit(PAIR_KEY_SHIFT) + individual_id).cast("bigint")


@generates(CAMPAIGN_ASSIGNMENTS)
def generate_campaign_assignments(
    spark: SparkSession, campaigns: DataFrame, audience: DataFrame, params: RunParameters
) -> DataFrame:
    """Each campaign's eligible audience, randomised into treatment and holdout.

    A person is eligible for a campaign when their segment_primary is in its
    target_segment (secondary segments do not count). A hashed uniform per (campaign,
    person) below the campaign's holdout_share puts them in the holdout; the draw is
    independent across campaigns, so one campaign's holdout is balanced on every other
    campaign's treatment. Everyone is assigned at the start of the flight.
    """
    seed = params.seed
    targets = campaigns.select(
        "campaign_id",
        F.explode(F.array_distinct("target_segment")).alias("segment_primary"),
        "holdout_share",
        (day_number(F.col("start_date")) * F.lit(SECONDS_PER_DAY)).alias("_start_epoch"),
    )
    held_out = R.uniform(seed, ASSIGNMENTS, "group", "campaign_id", "individual_id") < F.col("holdout_share")
    return (
        audience.select("individual_id", "segment_primary")
        .join(F.broadcast(targets), "segment_primary")
        .select(
            pair_key(F.col("campaign_id"), F.col("individual_id")).alias("assignment_id"),
            "campaign_id",
            "individual_id",
            F.when(held_out, F.lit("holdout")).otherwise(F.lit("treatment")).alias("group"),
            timestamp_at(F.col("_start_epoch")).alias("assigned_at"),
        )
    )


@generates(CAMPAIGN_EXPOSURES)
def generate_campaign_exposures(
    spark: SparkSession,
    campaigns: DataFrame,
    assignments: DataFrame,
    identity_mappings: DataFrame,
    params: RunParameters,
    days: Sequence[dt.date],
) -> DataFrame:
    """Every exposure whose event_date is one of ``days``.

    A campaign reaches a person of its treatment group (``campaign_assignments``; the
    holdout is never exposed) when a hashed uniform falls below its target_reach. A
    reached person gets F = min(frequency_cap, 1 + a
    geometric count with mean frequency_mean − 1) exposures over the flight, each
    on a uniform day of the flight at an hour drawn from ``EXPOSURE_HOUR_WEIGHTS``;
    frequency is the exposure's chronological ordinal. The whole flight is drawn for
    each pair and then cut to ``days``, so a day's rows never depend on which other
    days are asked for. The channel is drawn among the campaign's channels on which the
    person holds an identifier (``CHANNEL_IDENTIFIER``) live at the exposure time
    (first_seen ≤ exposure_ts ≤ last_seen), and mapping_id is one of those identifiers,
    picked by hash. When they hold none live on any of its channels, the exposure is
    contextual: drawn among all the campaign's channels, ``addressable`` false and
    mapping_id NULL.
    """
    seed = params.seed
    day_numbers = _day_numbers(days)

    def u(column: str, *extra: Column | str) -> Column:
        return R.uniform(seed, EXPOSURES, column, "campaign_id", "individual_id", *extra)

    targets = campaigns.select(
        "campaign_id",
        "channels",
        "target_reach",
        "frequency_cap",
        "frequency_mean",
        F.col("cpm").cast("double").alias("_cpm"),
        (day_number(F.col("start_date")) * F.lit(SECONDS_PER_DAY)).alias("_start_epoch"),
        (F.datediff("end_date", "start_date") + F.lit(1)).alias("_flight_days"),
        "start_date",
        "end_date",
    )
    if day_numbers:
        # Only flights that can touch a requested day; the rest would be filtered out after the draws.
        first, last = min(days), max(days)
        targets = targets.where((F.col("start_date") <= F.lit(last)) & (F.col("end_date") >= F.lit(first)))
    pairs = (
        assignments.where(F.col("group") == "treatment")
        .select("campaign_id", "individual_id")
        .join(F.broadcast(targets.drop("start_date", "end_date")), "campaign_id")
        .where(u("reach") < F.col("target_reach"))
    )

    extra_mean = F.col("frequency_mean") - F.lit(1.0)
    # Inverse CDF of the geometric distribution with mean m: floor(ln u / ln(m / (1 + m))).
    u_frequency = R.uniform_open(seed, EXPOSURES, "frequency", "campaign_id", "individual_id")
    extra = F.when(
        extra_mean > 0, F.floor(F.log(u_frequency) / F.log(extra_mean / (extra_mean + F.lit(1.0))))
    ).otherwise(F.lit(0))
    hour_slots = F.array(*[F.lit(h) for h in _hour_slots()])

    def draw(k: Column) -> Column:
        # Lambdas run interpreted, without common subexpression elimination, so each draw uses
        # one hashed uniform: its integer part scaled by the flight picks the day, and the
        # fraction left over (still ≥ 40 random bits) picks an hour slot, then the second.
        day_scaled = u("exposure_ts", k) * F.col("_flight_days")
        day = F.floor(day_scaled)
        slot_scaled = (day_scaled - day) * F.lit(HOUR_SLOTS)
        slot = F.floor(slot_scaled)
        hour = F.element_at(hour_slots, (slot + F.lit(1)).cast("int")).cast("bigint")
        second = F.floor((slot_scaled - slot) * F.lit(3600))
        return F.col("_start_epoch") + day * F.lit(SECONDS_PER_DAY) + hour * F.lit(3600) + second

    total = F.least(F.col("frequency_cap"), F.lit(1) + extra).cast("int")
    pairs = pairs.withColumn("_ts", F.array_sort(F.transform(F.sequence(F.lit(1), total), draw)))
    # One row per (pair, requested day) holding the pair's number of exposures that day, so ids
    # can be numbered within the day without ranking the exposures themselves.
    pair_days = (
        pairs.select("*", F.explode(F.array_distinct(F.transform("_ts", _epoch_day))).alias("_day"))
        .where(_on_days(F.col("_day"), day_numbers))
        .withColumns(
            {
                "event_date": F.date_from_unix_date(F.col("_day").cast("int")),
                "_n": F.size(F.filter("_ts", lambda ts: _epoch_day(ts) == F.col("_day"))),
                "_pair_key": pair_key(F.col("campaign_id"), F.col("individual_id")),
            }
        )
    )
    numbered = with_contiguous_ids(pair_days, "_pair_key", "_n", "_offset", group="event_date")
    ordinals = F.transform(
        "_ts", lambda ts, i: F.named_struct(F.lit("ts"), ts, F.lit("frequency"), (i + F.lit(1)).cast("int"))
    )
    todays = F.filter(ordinals, lambda e: _epoch_day(e["ts"]) == F.col("_day"))
    events = numbered.select(
        "campaign_id",
        "individual_id",
        "event_date",
        "channels",
        "_cpm",
        "_offset",
        F.posexplode(todays).alias("_pos", "_event"),
    ).select(
        "*",
        day_scoped_key(F.col("event_date"), F.col("_offset") + F.col("_pos") + F.lit(1)).alias("exposure_id"),
        F.col("_event.ts").alias("_epoch"),
        F.col("_event.frequency").alias("frequency"),
    )

    def ue(column: str) -> Column:
        return u(column, "frequency")

    # The person's identifiers, then those live at the exposure, on a channel of the campaign.
    held = held_identifiers(identity_mappings)
    events = (
        events.join(held, "individual_id", "left")
        .withColumn(
            "_live",
            F.filter(
                F.coalesce(F.col("_held"), F.array().cast(held.schema["_held"].dataType)),
                lambda m: (m["first"] <= F.col("_epoch")) & (m["last"] >= F.col("_epoch")),
            ),
        )
        .withColumn(
            "_reachable",
            F.filter(
                "channels",
                # Several channels may reach people through one identifier type (social and audio: the phone's).
                lambda c: F.exists("_live", lambda m: m["identifier_type"] == R.lookup(c, CHANNEL_IDENTIFIER)),
            ),
        )
        .withColumn("addressable", F.size("_reachable") > 0)
    )
    options = F.when(F.col("addressable"), F.col("_reachable")).otherwise(F.col("channels"))
    channel = F.element_at(options, (F.floor(ue("channel") * F.size(options)) + F.lit(1)).cast("int"))
    events = events.withColumn("channel", channel)
    placement = None
    for name, options in PLACEMENTS.items():
        chosen, on_channel = R.pick(ue("placement"), options), F.col("channel") == name
        placement = F.when(on_channel, chosen) if placement is None else placement.when(on_channel, chosen)
    cost = F.round(
        F.col("_cpm") / F.lit(1000.0) * (F.lit(1.0 - COST_SPREAD) + F.lit(2.0 * COST_SPREAD) * ue("cost")), 6
    )

    wanted = R.lookup(F.col("channel"), CHANNEL_IDENTIFIER)
    on_channel = F.filter("_live", lambda m: m["identifier_type"] == wanted)
    picked = F.element_at(on_channel, (F.floor(ue("mapping") * F.size(on_channel)) + F.lit(1)).cast("int"))
    mapping_id = F.when(F.col("addressable"), picked["mapping_id"])

    return events.select(
        "exposure_id",
        "campaign_id",
        "individual_id",
        mapping_id.cast("bigint").alias("mapping_id"),
        "addressable",
        timestamp_at(F.col("_epoch")).alias("exposure_ts"),
        "event_date",
        "channel",
        "frequency",
        placement.alias("placement"),
        cost.cast("decimal(12,6)").alias("cost"),
    )


def _whole(value: Column) -> Column:
    """A whole number of (cents, days, impressions) as BIGINT."""
    return value.cast("bigint")


def _exact_ratio(numerator: Column, denominator: Column) -> Column:
    """numerator ÷ denominator as a decimal, for an exact floor or ceiling: with integers and a
    denominator of at most 365 (a flight's days), a fraction is never within decimal rounding of
    a whole number unless it is one."""
    return numerator.cast("decimal(30,0)") / denominator.cast("decimal(30,0)")


@generates(CAMPAIGN_DELIVERY)
def generate_campaign_delivery(
    spark: SparkSession, campaigns: DataFrame, exposures: DataFrame, params: RunParameters
) -> DataFrame:
    """Each campaign's budget, sized by the audience it reached, and its delivery in the window.

    The period is the flight's days inside the run's window; impressions and spend are the
    campaign's exposures on those days (``exposures`` may hold other days: they are left out).
    The campaign's pacing u is a hashed uniform in [pacing_share, 1], and its period budget is
    spend ÷ u rounded up to the cent — lowered to the most cents of which spend is still
    pacing_share, when that is not below spend — so spend never exceeds the period budget and
    reaches pacing_share of it (short of it by less than a cent when no whole cent lies between
    spend and spend ÷ pacing_share). The flight's budget is the period budget scaled to the whole
    flight (× flight days ÷ period days, rounded up to the cent, so pro-rating it back and rounding
    down gives the period budget again), and planned_impressions what it buys at the campaign's
    CPM. The plan is thus the campaign's audience × reach × frequency at its CPM, as served, over
    its pacing: budgets scale with the graph. A campaign that served nothing in the period has a
    budget of 0. Campaigns whose flight misses the window have no row.
    """
    periods = campaigns.select(
        "campaign_id",
        "cpm",
        "pacing_share",
        F.greatest(F.col("start_date"), F.lit(params.window_start)).alias("period_start"),
        F.least(F.col("end_date"), F.lit(params.end_date)).alias("period_end"),
        (F.datediff("end_date", "start_date") + F.lit(1)).alias("_flight_days"),
    ).withColumn("_period_days", F.datediff("period_end", "period_start") + F.lit(1))
    # A stored campaign whose flight a later window no longer overlaps has no period, so no row.
    periods = periods.where(F.col("_period_days") >= 1)
    served = (
        exposures.select("campaign_id", "event_date", "cost")
        .join(F.broadcast(periods.select("campaign_id", "period_start", "period_end")), "campaign_id")
        .where(F.col("event_date").between(F.col("period_start"), F.col("period_end")))
        .groupBy("campaign_id")
        .agg(F.count(F.lit(1)).alias("_impressions"), F.sum("cost").alias("_spend"))
    )
    frame = periods.join(served, "campaign_id", "left").select(
        "*",
        F.coalesce(F.col("_impressions"), F.lit(0)).cast("bigint").alias("impressions"),
        F.coalesce(F.col("_spend"), F.lit(0)).cast("decimal(18,6)").alias("spend"),
    )

    spend_cents = F.col("spend") * F.lit(100)
    pacing_floor = F.col("pacing_share").cast("decimal(10,9)")
    pace = F.col("pacing_share") + (F.lit(1.0) - F.col("pacing_share")) * R.uniform(
        params.seed, DELIVERY, "pacing", "campaign_id"
    )
    at_least = _whole(F.ceil(spend_cents))
    paced = _whole(F.ceil(spend_cents.cast("double") / pace))
    # The most cents of which spend is still pacing_share: the double's floor, one less if it rounded up.
    most = _whole(F.floor(spend_cents.cast("double") / F.col("pacing_share")))
    most = F.when(pacing_floor * most > spend_cents, most - F.lit(1)).otherwise(most)
    frame = frame.withColumn("_period_cents", F.greatest(at_least, F.least(paced, most)))
    frame = frame.withColumn(
        "_budget_cents",
        _whole(F.ceil(_exact_ratio(F.col("_period_cents") * F.col("_flight_days"), F.col("_period_days")))),
    )
    budget = (F.col("_budget_cents") / F.lit(100)).cast("decimal(14,2)")
    period_budget = (
        _whole(F.floor(_exact_ratio(F.col("_budget_cents") * F.col("_period_days"), F.col("_flight_days"))))
        / F.lit(100)
    ).cast("decimal(14,2)")
    return frame.select(
        "campaign_id",
        "period_start",
        "period_end",
        _whole(F.round(budget * F.lit(1000) / F.col("cpm"), 0)).alias("planned_impressions"),
        budget.alias("budget"),
        period_budget.alias("period_budget"),
        "impressions",
        "spend",
        F.when(period_budget > 0, F.col("spend").cast("double") / period_budget.cast("double"))
        .otherwise(F.lit(0.0))
        .alias("pacing"),
    )


@generates(OUTCOME_METRICS)
def generate_outcome_metrics(
    spark: SparkSession,
    responses: DataFrame,
    exposures: DataFrame,
    config: OutcomesConfig,
    params: RunParameters,
) -> DataFrame:
    """One row per (conversion, touch, attribution model).

    A conversion's touches are the same person's exposures, to any campaign, at or before
    the response and at most ``params.attribution_window_hours`` earlier: a multi-touch
    model credits every campaign the person saw, not only the converting one. The exposure
    linked to it (if any) always counts. Touches are ordered by (exposure_ts, exposure_id):
    first_touch and last_touch put weight 1 on the first and last, linear 1/n, and
    time_decay weighs each by 2^(−Δt / half-life), normalised. conversion_status is
    'converted' on the exposure the conversion is linked to, 'engaged' on a touch whose
    exposure drew a click, engagement or visit, 'no_action' otherwise. A conversion with no
    touch in the window is credited to none. engagement_score is half the status
    level (``STATUS_LEVEL``) plus half the touch's recency 2^(−Δt / half-life).
    outcome_id runs 1..N; computed_at is the end of the window.
    """
    models = list(config.attribution_models)
    half_life = config.time_decay_half_life_hours
    window_seconds = params.attribution_window_hours * 3600.0

    conversions = responses.where(F.col("response_type") == "conversion").select(
        "response_id",
        F.col("exposure_id").alias("_responding"),
        "individual_id",
        F.unix_timestamp("response_ts").alias("_response_epoch"),
        "value",
    )
    candidates = exposures.select(
        "exposure_id", "campaign_id", "individual_id", F.unix_timestamp("exposure_ts").alias("_exposure_epoch")
    )
    # A click, engagement or visit of its own (at most one per exposure; conversions are the person's).
    responded = responses.where(F.col("response_type") != "conversion").select(
        "exposure_id", F.lit(True).alias("_had_response")
    )
    touches = (
        conversions.join(candidates, "individual_id")
        .where(
            (F.col("exposure_id") == F.col("_responding"))
            | (
                (F.col("_exposure_epoch") <= F.col("_response_epoch"))
                & (F.col("_exposure_epoch") >= F.col("_response_epoch") - F.lit(window_seconds))
            )
        )
        .join(responded, "exposure_id", "left")
        .withColumn("_dt_hours", (F.col("_response_epoch") - F.col("_exposure_epoch")) / F.lit(3600.0))
    )

    per_conversion = Window.partitionBy("response_id")
    ordered = per_conversion.orderBy("_exposure_epoch", "exposure_id")
    # A fixed order and a whole-partition frame make the floating-point sum the same on every run.
    whole = ordered.rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)
    touches = (
        touches.withColumn("_n", F.count(F.lit(1)).over(per_conversion))
        .withColumn("_rank", F.row_number().over(ordered))
        # Relative to the latest touch, so the largest term is 1 and the sum never underflows.
        .withColumn(
            "_decay",
            F.pow(F.lit(2.0), -(F.col("_dt_hours") - F.min("_dt_hours").over(per_conversion)) / F.lit(half_life)),
        )
        .withColumn("_decay_sum", F.sum("_decay").over(whole))
    )
    weights = {
        "first_touch": F.when(F.col("_rank") == 1, F.lit(1.0)).otherwise(F.lit(0.0)),
        "last_touch": F.when(F.col("_rank") == F.col("_n"), F.lit(1.0)).otherwise(F.lit(0.0)),
        "linear": F.lit(1.0) / F.col("_n"),
        "time_decay": F.col("_decay") / F.col("_decay_sum"),
    }
    per_model = F.array(
        *[
            F.named_struct(
                F.lit("model"), F.lit(m), F.lit("weight"), weights[m].cast("double"), F.lit("index"), F.lit(i)
            )
            for i, m in enumerate(models)
        ]
    )
    offsets = with_contiguous_ids(
        touches.where(F.col("_rank") == 1).select("response_id", (F.col("_n") * F.lit(len(models))).alias("_count")),
        "response_id",
        "_count",
        "_offset",
    ).select("response_id", "_offset")
    rows = touches.join(offsets, "response_id").select("*", F.explode(per_model).alias("_model"))

    status = (
        F.when(F.col("exposure_id") == F.col("_responding"), F.lit("converted"))
        .when(F.col("_had_response"), F.lit("engaged"))
        .otherwise(F.lit("no_action"))
    )
    weight = F.col("_model.weight")
    recency = F.pow(F.lit(2.0), -F.col("_dt_hours") / F.lit(half_life))
    score = R.clip(F.lit(0.5) * R.lookup(F.col("conversion_status"), STATUS_LEVEL) + F.lit(0.5) * recency, 0.0, 1.0)
    return rows.withColumn("conversion_status", status).select(
        (F.col("_offset") + F.col("_model.index") * F.col("_n") + F.col("_rank")).cast("bigint").alias("outcome_id"),
        "response_id",
        "exposure_id",
        "campaign_id",
        "individual_id",
        F.col("_model.model").alias("attribution_model"),
        weight.alias("attribution_weight"),
        "conversion_status",
        F.when(F.col("conversion_status") == "converted", F.col("value")).cast("decimal(12,2)").alias("revenue"),
        F.round(F.col("value").cast("double") * weight, 4).cast("decimal(14,4)").alias("attributed_revenue"),
        score.alias("engagement_score"),
        timestamp_at(F.lit(params.end_epoch)).alias("computed_at"),
    )
