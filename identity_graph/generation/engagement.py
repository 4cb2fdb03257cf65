"""Content engagements, the viewership patterns they add up to, and the audience attributes derived from both.

Activity is heavy-tailed: each person has a daily activity rate drawn from a Pareto
distribution, and the count for a person-day is a Poisson draw around that rate,
so a day's rows depend only on (seed, person, day) — never on which other days are
generated with it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from identity_graph.config.engagement import AudienceConfig, EngagementConfig
from identity_graph.config.run import RunParameters
from identity_graph.generation import random as R
from identity_graph.generation.common import (
    day_number,
    day_scoped_key,
    generates,
    hour_of,
    timestamp_at,
    with_contiguous_ids,
)
from identity_graph.model.tables import AUDIENCE_ATTRIBUTES, CONTENT_ENGAGEMENTS, VIEWERSHIP_PATTERNS
from identity_graph.model.vocabularies import (
    DEVICE_IDENTIFIER,
    PERSONA_CATEGORY_AFFINITY,
    PERSONA_DEVICE_AFFINITY,
    segment_for,
)

TABLE = CONTENT_ENGAGEMENTS.name
AUDIENCE_TABLE = AUDIENCE_ATTRIBUTES.name

#: Relative weight of each hour of the day (0–23) for the 'daily' and 'weekly' patterns:
#: a morning rise, a lunchtime bump and an evening peak; the 19:00–22:59 block holds ~37 %.
HOURLY_PROFILE = (
    1.2, 0.7, 0.4, 0.3, 0.3, 0.5, 1.2, 2.2, 2.8, 2.8, 2.8, 3.0,
    3.8, 3.4, 3.0, 3.0, 3.4, 4.2, 4.6, 6.8, 7.6, 7.4, 6.2, 3.2,
)  # fmt: skip
#: A person's daily activity rate is capped at this multiple of the configured mean (the
#: Pareto scale is solved so the capped mean is still the configured one).
ACTIVITY_CAP_MULTIPLE = 50.0
#: Person-days with an expected count below this draw it by the exact Poisson inverse CDF;
#: above it, by the rounded normal approximation (the Poisson's skewness 1/√mean is < 0.19 there).
POISSON_EXACT_BELOW = 30.0
#: Steps of the exact inversion written out as arithmetic; draws beyond them (0.02 % of draws at a
#: mean of 1.5, 1.2 % at 3) fall back to a fold, which Spark evaluates many times more slowly.
POISSON_UNROLLED = 8
#: Sessions per person-day: 1 + ⌊u · n^SESSION_EXPONENT⌋, at most n (1 session for 1 event, 1–4 for 10).
SESSION_EXPONENT = 0.6
#: A session lasts 2–30 minutes, most of them short.
SESSION_MIN_SECONDS, SESSION_MAX_SECONDS = 120, 1800
#: Items per category in the content catalogue; content_id = category number × stride + item rank.
CATALOGUE_SIZE = 10_000
CONTENT_ID_STRIDE = 1_000_000
#: Propensity to convert: a logistic of behaviour and demographics, plus hashed noise.
PROPENSITY_INTERCEPT = -1.2
PROPENSITY_FREQUENCY = 0.9  # per unit of ln(engagements per day)
PROPENSITY_RECENCY = -0.12  # per day since the last engagement
PROPENSITY_INCOME = 0.5  # per unit of ln(income / 50,000)
PROPENSITY_AGE = -0.8  # per unit of ((age − 38) / 20)²: conversion peaks in the late thirties
PROPENSITY_NOISE = 0.8  # σ of the hashed normal noise on the logit
#: Lifetime value: propensity × expected monthly spend × LTV_MONTHS, spend rising with income and frequency.
LTV_MONTHS = 24
LTV_BASE_MONTHLY = 6.0
LTV_PER_INCOME = 0.0003  # monthly spend per unit of yearly income
MEDIAN_INCOME = 45_000.0  # used when income_individual is NULL


# -- activity -----------------------------------------------------------------------------


def pareto_scale(mean: float, alpha: float, cap_multiple: float = ACTIVITY_CAP_MULTIPLE) -> float:
    """The Pareto scale x_m whose draws, capped at ``cap_multiple × mean``, average ``mean``.

    For density ∝ x^-α on [x_m, ∞) capped at c, E[min(X, c)] = x_m · (1 + (1 − (x_m/c)^(α−2)) / (α − 2)),
    increasing in x_m; solved by bisection. (Uncapped, the mean is x_m · (α − 1)/(α − 2).)
    """
    cap = cap_multiple * mean

    def capped_mean(scale: float) -> float:
        return scale * (1.0 + (1.0 - (scale / cap) ** (alpha - 2.0)) / (alpha - 2.0))

    low, high = 0.0, mean
    for _ in range(100):
        mid = (low + high) / 2.0
        low, high = (mid, high) if capped_mean(mid) < mean else (low, mid)
    return (low + high) / 2.0


def day_factor(pattern: str, weekend_factor: float, date_column: Column) -> Column:
    """Expected activity on a day relative to the person's rate: weekends lifted for 'weekly'.

    The factors average 1 over a week (5 weekdays at 7/(5+2w), Saturday and Sunday at
    7w/(5+2w)), so a person's weekly mean rate is unchanged.
    """
    if pattern != "weekly":
        return F.lit(1.0)
    weekday = 7.0 / (5.0 + 2.0 * weekend_factor)
    weekend = F.dayofweek(date_column).isin(1, 7)
    return F.when(weekend, F.lit(weekday * weekend_factor)).otherwise(F.lit(weekday))


def poisson(u: Column, z: Column, mean: Column) -> Column:
    """An INT Poisson draw with the given mean, from a uniform ``u`` and a standard normal ``z``.

    Below :data:`POISSON_EXACT_BELOW` it inverts the CDF exactly: the first
    :data:`POISSON_UNROLLED` steps as plain arithmetic (almost every draw ends there), the
    rest as a fold over k in the row, K far beyond the mean. Above it, it rounds the normal
    approximation.
    """
    capped = F.least(mean, F.lit(POISSON_EXACT_BELOW))
    steps = F.ceil(capped + F.lit(8.0) * F.sqrt(capped) + F.lit(8.0)).cast("int")
    start = F.struct(F.lit(0).alias("k"), F.exp(-capped).alias("p"), F.exp(-capped).alias("cdf"))

    def step(acc: Column, k: Column) -> Column:
        p = acc["p"] * capped / k
        advanced = F.struct(k.alias("k"), p.alias("p"), (acc["cdf"] + p).alias("cdf"))
        return F.when(acc["cdf"] < u, advanced).otherwise(acc)

    folded = F.aggregate(F.sequence(F.lit(1), steps), start, step, lambda acc: acc["k"])
    # P(N ≤ k) = e^-μ · Σ_{j≤k} μ^j/j!, so N is the first k with u · e^μ < Σ_{j≤k} μ^j/j!.
    scaled = u * F.exp(capped)
    term = partial_sum = F.lit(1.0)
    exact = None
    for k in range(POISSON_UNROLLED):
        if k > 0:
            term = term * capped / F.lit(float(k))
            partial_sum = partial_sum + term
        cond = scaled < partial_sum
        exact = F.when(cond, F.lit(k)) if exact is None else exact.when(cond, F.lit(k))
    exact = exact.otherwise(folded)
    normal = F.greatest(F.round(mean + F.sqrt(mean) * z), F.lit(0.0)).cast("int")
    return F.when(mean < F.lit(POISSON_EXACT_BELOW), exact).otherwise(normal)


def _hour_of_day(u: str, weights: Sequence[float]) -> Column:
    """An INT hour 0–23 drawn from the uniform in column ``u`` by cumulative ``weights``.

    Written as one SQL CASE: built from Column objects, its 24 branches cost hundreds of
    round trips to the JVM on every call.
    """
    total = float(sum(weights))
    cumulative = 0.0
    branches = []
    for hour, weight in enumerate(weights[:-1]):
        cumulative += weight / total
        branches.append(f"WHEN {u} < {cumulative!r}D THEN {hour}")
    return F.expr(f"CASE {' '.join(branches)} ELSE {len(weights) - 1} END")


# -- personas ---------------------------------------------------------------------------------

#: Iterative proportional fitting stops when every marginal is within this of its target, or after this many rounds.
FIT_TOLERANCE, FIT_ROUNDS = 1e-12, 1000


def persona_mix(
    persona_counts: Mapping[str | None, int],
    weights: Mapping[str, float],
    affinity: Mapping[str, Mapping[str, float]],
) -> dict[str | None, dict[str, float]]:
    """P(value | persona): ``weights`` tilted by each persona's ``affinity`` (1 where it names no
    value), refitted so that, mixed over ``persona_counts``, the values keep ``weights``.

    Iterative proportional fitting of the (persona, value) table from count × weight × affinity
    to row sums = the persona counts and column sums = weights × everyone: the tilt that stays
    closest to the affinities while leaving the overall mix as configured. The None persona (a
    person without audience_truth) keeps the configured mix.
    """
    # People without a persona keep the configured mix, so the rest must too.
    personas = [p for p, n in persona_counts.items() if n > 0 and p is not None]
    values = [v for v, w in weights.items() if w > 0]
    total = sum(persona_counts[p] for p in personas)
    weight_sum = sum(weights[v] for v in values)
    neutral = {v: weights[v] / weight_sum for v in values}
    if not personas:
        return {None: neutral}
    table = {p: {v: persona_counts[p] * weights[v] * affinity.get(p, {}).get(v, 1.0) for v in values} for p in personas}
    target = {v: total * weights[v] / weight_sum for v in values}
    for _ in range(FIT_ROUNDS):
        for p in personas:
            row = sum(table[p].values())
            table[p] = {v: x * persona_counts[p] / row for v, x in table[p].items()}
        columns = {v: sum(table[p][v] for p in personas) for v in values}
        for p in personas:
            table[p] = {v: x * target[v] / columns[v] for v, x in table[p].items()}
        rows_off = max(abs(sum(table[p].values()) - persona_counts[p]) for p in personas)
        if rows_off <= FIT_TOLERANCE * total:
            break
    mix: dict[str | None, dict[str, float]] = {
        p: {v: x / sum(table[p].values()) for v, x in table[p].items()} for p in personas
    }
    mix[None] = neutral
    return mix


def _by_persona(u: Column, mix: Mapping[str | None, Mapping[str, float]]) -> Column:
    """A value drawn from uniform ``u`` by the weights of the row's ``_persona`` in ``mix``."""
    drawn = None
    for persona, weights in mix.items():
        if persona is None:
            continue
        chosen = R.categorical(u, weights)
        is_persona = F.col("_persona") == F.lit(persona)
        drawn = F.when(is_persona, chosen) if drawn is None else drawn.when(is_persona, chosen)
    neutral = R.categorical(u, mix[None])
    return neutral if drawn is None else drawn.otherwise(neutral)


# -- content engagements ----------------------------------------------------------------------


@generates(CONTENT_ENGAGEMENTS)
def generate_content_engagements(
    spark: SparkSession,
    identity_mappings: DataFrame,
    audience_truth: DataFrame,
    config: EngagementConfig,
    params: RunParameters,
    days: Sequence[dt.date],
) -> DataFrame:
    """Engagement events on exactly the given ``days``, each observed on one of the person's device identifiers.

    People engage through their devices: a person-day has events only when one of their
    device identifiers (:data:`DEVICE_IDENTIFIER`: mobile ad id, cookie, device id, the
    household's CTV id) is live that day, between its first_seen and last_seen. Each person
    has a daily rate λ from a Pareto(α = power_law_exponent) scaled so the mean over those
    person-days is mean_events_per_day (capped at :data:`ACTIVITY_CAP_MULTIPLE` × the mean);
    a person-day's count is Poisson(λ × day_factor). The events of a person-day fall into
    sessions, each on one live identifier — of the person's primary device type with
    probability primary_device_share when one is live, else of a type drawn from
    device_weights when one is live, else any live one — whose type gives device_type, and
    inside that identifier's live part of the day, starting at an hour from the temporal
    pattern; categories mix a per-person favourite with the configured weights, content
    within a category is Zipf-popular, and only views carry a log-normal duration.
    The person's latent persona (``audience_truth``) tilts their favourite category and
    primary device (:func:`persona_mix`: the configured mixes still hold over everyone), and
    a person who churns has no event from churned_at on.
    A day's rows depend only on (seed, person, day) and the person's identifiers: identical
    whichever other days are generated with it, and event_id = day_scoped_key(event_date,
    rank of the event in the day by individual_id, then the person's event index).
    """
    if not days:
        raise ValueError("generate_content_engagements needs at least one day, got none")
    seed = params.seed
    key = "individual_id"
    pattern = config.temporal_pattern
    hourly = [1.0] * 24 if pattern == "uniform" else list(HOURLY_PROFILE)
    categories = list(config.category_weights)
    scale = pareto_scale(config.mean_events_per_day, config.power_law_exponent)
    cap = ACTIVITY_CAP_MULTIPLE * config.mean_events_per_day

    def person(column: str) -> Column:
        return R.uniform(seed, TABLE, column, key)

    def person_day(column: str) -> Column:
        return R.uniform(seed, TABLE, column, key, "_day")

    def session(column: str, index: Column) -> Column:
        return R.uniform(seed, TABLE, column, key, "_day", index)

    def event(column: str) -> Column:
        return R.uniform(seed, TABLE, column, key, "_day", "_k")

    # Inverse CDF of the Pareto: x_m · u^(−1/(α−1)), u in (0, 1].
    rate = F.least(
        F.lit(scale)
        * F.pow(R.uniform_open(seed, TABLE, "activity_rate", key), F.lit(-1.0 / (config.power_law_exponent - 1.0))),
        F.lit(cap),
    )
    identifier_type = {t: d for d, t in DEVICE_IDENTIFIER.items()}
    devices = (
        identity_mappings.where(F.col("identifier_type").isin(*identifier_type))
        .groupBy(key)
        .agg(
            F.array_sort(
                F.collect_list(
                    F.struct(
                        F.col("mapping_id").alias("mapping_id"),
                        R.lookup(F.col("identifier_type"), identifier_type).alias("device"),
                        F.unix_seconds("first_seen").alias("first"),
                        F.unix_seconds("last_seen").alias("last"),
                    )
                )
            ).alias("_devices")
        )
    )
    truth = audience_truth.select(
        key, F.col("persona").alias("_persona"), F.unix_seconds("churned_at").alias("_churned_at")
    )
    persona_counts = {r["_persona"]: r["count"] for r in truth.groupBy("_persona").count().collect()}
    favourites = persona_mix(persona_counts, config.category_weights, PERSONA_CATEGORY_AFFINITY)
    primary_devices = persona_mix(persona_counts, config.device_weights, PERSONA_DEVICE_AFFINITY)
    people = devices.join(truth, key, "left").select(
        key,
        "_devices",
        "_churned_at",
        rate.alias("_rate"),
        _by_persona(person("favourite_category"), favourites).alias("_favourite"),
        _by_persona(person("primary_device"), primary_devices).alias("_primary_device"),
    )
    # Date literals, not spark.createDataFrame: classic PySpark ships a local list through Python
    # workers on every action, which cost seconds per generation; literals stay in the JVM.
    calendar_days = spark.range(1).select(
        F.explode(F.array(*[F.lit(d) for d in sorted(set(days))])).alias("event_date")
    )
    expected = F.col("_rate") * day_factor(pattern, config.weekend_factor, F.col("event_date"))
    day_start = F.col("_day") * F.lit(86_400)
    person_days = (
        people.crossJoin(F.broadcast(calendar_days))
        .withColumn("_day", day_number(F.col("event_date")))
        # The identifiers live at some moment of the day: a person engages only through them.
        .withColumn(
            "_live",
            F.filter("_devices", lambda d: (d["first"] < day_start + F.lit(86_400)) & (d["last"] >= day_start)),
        )
        .where(F.size("_live") > 0)
        # A churner engages no more from churned_at (00:00 of a day) on.
        .where(F.col("_churned_at").isNull() | (day_start < F.col("_churned_at")))
        # Drawn once as columns: the Poisson fold compares against them at every step.
        .withColumn("_expected", expected)
        .withColumn("_count_u", person_day("event_count"))
        .withColumn("_count_z", R.standard_normal(seed, TABLE, "event_count#normal", key, "_day"))
        .withColumn("_count", poisson(F.col("_count_u"), F.col("_count_z"), F.col("_expected")))
        .where(F.col("_count") > 0)
        .withColumn(
            "_sessions",
            F.least(
                F.col("_count"),
                F.lit(1)
                + F.floor(person_day("session_count") * F.pow(F.col("_count"), F.lit(SESSION_EXPONENT))).cast("int"),
            ),
        )
    )

    # Each event belongs to one of the person-day's sessions; the session fixes its start, length
    # and identifier (so its device), and the event falls at a uniform offset within it.
    session_index = F.lit(1) + F.floor(event("session") * F.col("_sessions")).cast("int")
    drawn_length = F.lit(SESSION_MIN_SECONDS) + F.floor(
        F.pow(session("session_length", F.col("_session")), F.lit(2.0))
        * F.lit(SESSION_MAX_SECONDS - SESSION_MIN_SECONDS)
    )
    drawn_begin = _hour_of_day("_hour_u", hourly) * F.lit(3600) + F.floor(
        session("session_second", F.col("_session")) * F.lit(3600)
    )
    # A late session is moved earlier rather than cut, so every event stays on its day.
    drawn_begin = F.least(drawn_begin, F.lit(86_399) - F.col("_length"))
    on_primary = session("on_primary_device", F.col("_session")) < F.lit(config.primary_device_share)
    wanted = F.when(on_primary, F.col("_primary_device")).otherwise(
        R.categorical(session("device_type", F.col("_session")), config.device_weights)
    )
    # The identifiers live when the session starts; of them the wanted device's, else any; when
    # none is live then, any live that day (and the session moves into its live part).
    started = day_start + F.col("_begin")
    live_then = F.filter("_live", lambda d: (d["first"] <= started) & (d["last"] >= started))
    of_wanted = F.filter(live_then, lambda d: d["device"] == F.col("_wanted"))
    pool = F.when(F.size(of_wanted) > 0, of_wanted).when(F.size(live_then) > 0, live_then).otherwise(F.col("_live"))
    picked = F.element_at(
        "_pool", (F.lit(1) + F.floor(session("identifier", F.col("_session")) * F.size("_pool"))).cast("int")
    )
    # The identifier's live part of the day, in seconds of the day: the session stays inside it.
    live_from = F.greatest(F.col("_identifier.first") - day_start, F.lit(0))
    live_to = F.least(F.col("_identifier.last") - day_start, F.lit(86_399))
    length = F.least(F.col("_length"), live_to - live_from)
    begin = F.least(F.greatest(F.col("_begin"), live_from), live_to - length)
    second = begin + F.floor(event("session_offset") * (length + F.lit(1)))

    numbered = with_contiguous_ids(person_days, key, "_count", "_offset", group="event_date")
    events = (
        numbered.select("*", F.explode(F.sequence(F.lit(1), F.col("_count"))).alias("_k"))
        .withColumn("_session", session_index)
        .withColumn("_hour_u", session("session_hour", F.col("_session")))
        .withColumn("_length", drawn_length)
        .withColumn("_begin", drawn_begin)
        .withColumn("_wanted", wanted)
        .withColumn("_pool", pool)
        .withColumn("_identifier", picked)
        .withColumn("_second", second.cast("int"))
    )

    category = F.when(event("favourite") < F.lit(config.favourite_category_share), F.col("_favourite")).otherwise(
        R.categorical(event("category"), config.category_weights)
    )
    # Zipf(1) popularity: rank = ⌊N^u⌋ puts probability ∝ 1/rank on each item.
    rank = F.floor(F.exp(event("content") * F.lit(math.log(CATALOGUE_SIZE)))).cast("bigint")
    category_number = R.lookup(F.col("content_category"), {c: i + 1 for i, c in enumerate(categories)})
    engagement_type = R.categorical(event("engagement_type"), config.event_type_weights)
    duration = R.clip(
        F.round(
            F.lit(config.duration_median_seconds)
            * F.exp(
                F.lit(config.duration_sigma) * R.standard_normal(seed, TABLE, "duration_seconds", key, "_day", "_k")
            )
        ),
        1,
        config.duration_max_seconds,
    ).cast("int")
    session_id = F.lower(F.lpad(F.hex(R.hash64(seed, TABLE, "session_id", key, "_day", "_session")), 16, "0"))

    return (
        events.withColumn("content_category", category)
        .withColumn("engagement_type", engagement_type)
        .select(
            day_scoped_key(F.col("event_date"), F.col("_offset") + F.col("_k")).alias("event_id"),
            key,
            F.col("_identifier.mapping_id").cast("bigint").alias("mapping_id"),
            (category_number * F.lit(CONTENT_ID_STRIDE) + rank).cast("bigint").alias("content_id"),
            "content_category",
            "engagement_type",
            timestamp_at(F.col("_day") * F.lit(86_400) + F.col("_second")).alias("event_ts"),
            "event_date",
            F.when(F.col("engagement_type") == "view", duration).alias("duration_seconds"),
            F.col("_identifier.device").alias("device_type"),
            session_id.alias("session_id"),
        )
    )


# -- viewership patterns ----------------------------------------------------------------------


@generates(VIEWERSHIP_PATTERNS)
def generate_viewership_patterns(spark: SparkSession, engagements: DataFrame, params: RunParameters) -> DataFrame:
    """One row per individual with at least one engagement in ``engagements``.

    Totals, the daily average over the run's ``params.days``, the last event_ts, the top 3
    categories (by count, ties by name), the most used device (ties by name), the peak
    UTC hour (ties: the earliest) and the count per category; computed_at is the end of
    the window, never the clock.
    """
    key = "individual_id"
    # One aggregation instead of one per attribute and a join: each event is counted once per
    # (attribute, value); the hour is zero-padded so that its text order is its numeric order.
    attributes = F.array(
        F.struct(F.lit("category").alias("attribute"), F.col("content_category").alias("value")),
        F.struct(F.lit("device").alias("attribute"), F.col("device_type").alias("value")),
        F.struct(
            F.lit("hour").alias("attribute"), F.lpad(hour_of(F.col("event_ts")).cast("string"), 2, "0").alias("value")
        ),
    )
    counts = (
        engagements.select(key, "event_ts", F.explode(attributes).alias("_a"))
        .groupBy(key, F.col("_a.attribute").alias("attribute"), F.col("_a.value").alias("value"))
        .agg(F.count("*").alias("_n"), F.max("event_ts").alias("_last"))
    )
    is_category = F.col("attribute") == "category"
    # (−count, value) orders the most frequent first, ties by the smallest value.
    ranked = F.struct((-F.col("_n")).alias("neg_count"), F.col("value").alias("value"))
    people = counts.groupBy(key).agg(
        F.sum(F.when(is_category, F.col("_n"))).alias("total_engagements"),
        F.max("_last").alias("recency_last_engagement"),
        F.sort_array(F.collect_list(F.when(is_category, ranked))).alias("_categories"),
        F.min(F.when(F.col("attribute") == "device", ranked))["value"].alias("preferred_device"),
        F.min(F.when(F.col("attribute") == "hour", ranked))["value"].alias("_peak_hour"),
    )
    # Entries sorted by category name, so the map is laid out the same on every run.
    category_counts = F.map_from_entries(
        F.array_sort(
            F.transform("_categories", lambda e: F.struct(e["value"].alias("key"), (-e["neg_count"]).alias("value")))
        )
    )
    return people.select(
        key,
        F.col("total_engagements").cast("bigint").alias("total_engagements"),
        (F.col("total_engagements") / F.lit(float(params.days))).alias("frequency_daily_avg"),
        "recency_last_engagement",
        F.transform(F.slice("_categories", 1, 3), lambda e: e["value"]).alias("preferred_categories"),
        "preferred_device",
        F.col("_peak_hour").cast("int").alias("peak_hour"),
        category_counts.alias("category_counts"),
        timestamp_at(F.lit(params.end_epoch)).alias("computed_at"),
    )


# -- audience attributes ----------------------------------------------------------------------


@generates(AUDIENCE_ATTRIBUTES)
def generate_audience_attributes(
    spark: SparkSession,
    viewership: DataFrame,
    individuals: DataFrame,
    config: AudienceConfig,
    params: RunParameters,
) -> DataFrame:
    """One row per individual in ``viewership``: segments, affinities, behaviour, propensity and value.

    affinity_scores is each category's share of the person's engagements; segment_primary
    is the segment of the top category (ties by name) and segment_secondary the segments of
    the other categories at or above secondary_affinity_threshold, strongest first.
    behavioral_classification is 'Churned' when the last engagement is more than
    churn_inactive_days before the window's end, else by frequency_daily_avg against the
    heavy and moderate thresholds. propensity_to_convert is a logistic of frequency,
    recency, income and age plus hashed noise; lifetime_value_estimate is propensity ×
    expected monthly spend × :data:`LTV_MONTHS`.
    """
    seed = params.seed
    key = "individual_id"
    mapping = config.segment_by_category
    segment_map = (
        F.create_map(*[F.lit(x) for c, s in mapping.items() for x in (c, segment_for(c, mapping))]) if mapping else None
    )
    # The name segment_for gives a category it has no mapping for: "<category><suffix>".
    unmapped_suffix = segment_for("", {})

    def segment(category: Column) -> Column:
        fallback = F.concat(category, F.lit(unmapped_suffix))
        return fallback if segment_map is None else F.coalesce(F.element_at(segment_map, category), fallback)

    total = F.col("total_engagements")
    # (−affinity, category) sorts strongest first, ties by name.
    ranked = F.sort_array(
        F.transform(
            F.map_entries("category_counts"),
            lambda e: F.struct((-(e["value"] / total)).alias("neg_affinity"), e["key"].alias("category")),
        )
    )
    affinity = F.map_from_entries(
        F.transform(F.map_entries("category_counts"), lambda e: F.struct(e["key"], e["value"] / total))
    )
    threshold = F.lit(config.secondary_affinity_threshold)
    # Categories after the top one; a segment already named (two categories may share one) is not repeated.
    secondary = F.array_remove(
        F.array_distinct(
            F.transform(
                F.filter("_ranked", lambda e, i: (i > 0) & (-e["neg_affinity"] >= threshold)),
                lambda e: segment(e["category"]),
            )
        ),
        F.col("_primary"),
    )

    end = params.end_epoch
    inactive_seconds = (F.lit(end) - F.unix_seconds("recency_last_engagement")).cast("double")
    frequency = F.col("frequency_daily_avg")
    classification = (
        F.when(inactive_seconds > F.lit(config.churn_inactive_days * 86_400), F.lit("Churned"))
        .when(frequency >= F.lit(config.heavy_user_threshold), F.lit("Heavy User"))
        .when(frequency >= F.lit(config.moderate_user_threshold), F.lit("Moderate User"))
        .otherwise(F.lit("Light User"))
    )

    income = F.coalesce(F.col("income_individual").cast("double"), F.lit(MEDIAN_INCOME))
    logit = (
        F.lit(PROPENSITY_INTERCEPT)
        + F.lit(PROPENSITY_FREQUENCY) * F.log(frequency)
        + F.lit(PROPENSITY_RECENCY) * inactive_seconds / F.lit(86_400.0)
        + F.lit(PROPENSITY_INCOME) * F.log(F.greatest(income, F.lit(1_000.0)) / F.lit(50_000.0))
        + F.lit(PROPENSITY_AGE) * F.pow((F.coalesce(F.col("age"), F.lit(38)) - F.lit(38)) / F.lit(20.0), F.lit(2.0))
        + F.lit(PROPENSITY_NOISE) * R.standard_normal(seed, AUDIENCE_TABLE, "propensity_to_convert", key)
    )
    propensity = F.lit(1.0) / (F.lit(1.0) + F.exp(-logit))
    monthly_spend = (F.lit(LTV_BASE_MONTHLY) + F.lit(LTV_PER_INCOME) * income) * (F.lit(1.0) + F.log1p(frequency))

    return (
        viewership.join(individuals.select(key, "age", "income_individual"), key, "left")
        .withColumn("_ranked", ranked)
        .withColumn("_primary", segment(F.col("_ranked")[0]["category"]))
        .withColumn("_propensity", propensity)
        .select(
            key,
            F.col("_primary").alias("segment_primary"),
            secondary.alias("segment_secondary"),
            affinity.alias("affinity_scores"),
            classification.alias("behavioral_classification"),
            F.col("_propensity").alias("propensity_to_convert"),
            F.round(F.col("_propensity") * monthly_spend * F.lit(float(LTV_MONTHS)), 2).alias(
                "lifetime_value_estimate"
            ),
            timestamp_at(F.lit(end)).alias("computed_at"),
        )
    )
