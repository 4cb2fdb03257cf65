"""Responses and conversions, and the truth of why people convert.

Clicks, engagements and visits are drawn per addressable exposure. Conversions are a
process of the person, not of the exposure: everyone converts on their own at a latent
daily rate (``audience_truth``), exposed or not, and each exposure adds a chance of one
more conversion — its campaign's latent effect × the channel's factor × what this
exposure adds to the frequency response (diminishing returns, then wear-out) — after a
delay. A conversion is observed on one of the person's identifiers live at the time (a
conversion made while none is live is never seen) and linked, as an ad server would,
to the last exposure on that identifier within the attribution window, whatever caused
it. Why it happened goes to ``conversion_truth``; what each campaign truly caused goes
to ``campaign_truth``.

A day's rows are a function of that day alone: organic draws are keyed by (person, day),
caused ones by exposure_id, and ids are numbered within their day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from identity_graph.config.campaigns import AudienceTruthConfig, ResponsesConfig
from identity_graph.config.run import RunParameters
from identity_graph.generation import random as R
from identity_graph.generation.campaigns import (
    MAX_VALUE_12_2,
    RESPONSE_DELAY_MEAN_HOURS,
    SECONDS_PER_DAY,
    _day_numbers,
    _epoch_day,
    _on_days,
    held_identifiers,
)
from identity_graph.generation.common import (
    day_scoped_key,
    generates,
    timestamp_at,
    with_contiguous_ids,
)
from identity_graph.model.tables import (
    AUDIENCE_TRUTH,
    CAMPAIGN_TRUTH,
    CONVERSION_TRUTH,
    RESPONSE_EVENTS,
)
from identity_graph.model.vocabularies import (
    CHANNEL_CONVERSION_FACTOR,
    EXPOSURE_RESPONSE_TYPES,
    GOAL_VALUE_FACTOR,
    PERSONA_CONVERSION_FACTOR,
    PERSONA_WEIGHTS_BY_AGE,
)

RESPONSES = RESPONSE_EVENTS.name
CONVERSIONS = "conversions"
#: A person's latent daily conversion rate never exceeds this.
MAX_DAILY_RATE = 0.5
#: Response ids are numbered within a day in this order: an exposure's response (2 × exposure_id),
#: the conversion it caused (2 × exposure_id + 1), then organic conversions (ORGANIC_ORDER + day × 2^37 +
#: individual_id: unique, as individual_id < 2^37 and a person converts on their own at most once a day).
ORGANIC_ORDER = 1 << 60
INDIVIDUAL_KEY_SHIFT = 1 << 37
#: Probabilities and rates are summed as this DECIMAL: exact, so independent of the order of addition.
EXACT = "decimal(38,18)"


@generates(AUDIENCE_TRUTH)
def generate_audience_truth(
    spark: SparkSession, individuals: DataFrame, config: AudienceTruthConfig, params: RunParameters
) -> DataFrame:
    """Each person's latent persona, daily organic conversion rate and churn.

    The persona is drawn with the weights of the person's age band
    (``PERSONA_WEIGHTS_BY_AGE``); the rate is organic_daily_rate × the persona's factor
    (``PERSONA_CONVERSION_FACTOR``) × exp(σZ − σ²/2), a log-normal of mean 1, capped at
    ``MAX_DAILY_RATE``. A churn_share of people churn: churned_at is 00:00 UTC of a day
    drawn uniformly among the window's first (days − churn_lead_days) days (its first day
    when there are none), after which they never engage with content.
    """
    seed, table, key = params.seed, AUDIENCE_TRUTH.name, "individual_id"
    u = R.uniform(seed, table, "persona", key)
    persona = None
    for low, weights in reversed(PERSONA_WEIGHTS_BY_AGE):
        drawn = R.categorical(u, weights)
        persona = F.when(F.col("age") >= low, drawn) if persona is None else persona.when(F.col("age") >= low, drawn)
    persona = persona.otherwise(R.categorical(u, PERSONA_WEIGHTS_BY_AGE[0][1]))
    sigma = config.organic_rate_sigma
    individual = F.exp(F.lit(sigma) * R.standard_normal(seed, table, "rate", key) - F.lit(sigma * sigma / 2))
    rate = F.lit(config.organic_daily_rate) * R.lookup(F.col("persona"), PERSONA_CONVERSION_FACTOR) * individual
    churn_days = max(1, params.days - config.churn_lead_days)
    churn_day = F.floor(R.uniform(seed, table, "churn_day", key) * F.lit(churn_days))
    churned_at = F.when(
        R.uniform(seed, table, "churn", key) < F.lit(config.churn_share),
        timestamp_at(F.lit(params.window_start_epoch) + churn_day * F.lit(SECONDS_PER_DAY)),
    )
    return (
        individuals.select(key, "age")
        .withColumn("persona", persona)
        .select(
            key,
            "persona",
            F.least(rate, F.lit(MAX_DAILY_RATE)).alias("daily_conversion_rate"),
            churned_at.alias("churned_at"),
        )
    )


def campaign_effect(seed: int, config: ResponsesConfig, campaign_id: Column) -> Column:
    """A campaign's latent effect: 0 with probability zero_effect_share, else log-normal with
    median effect_median and log-scale spread effect_sigma (at most 1)."""
    table = CAMPAIGN_TRUTH.name
    zero = R.uniform(seed, table, "zero_effect", campaign_id) < F.lit(config.zero_effect_share)
    size = F.lit(config.effect_median) * F.exp(
        F.lit(config.effect_sigma) * R.standard_normal(seed, table, "effect", campaign_id)
    )
    return F.when(zero, F.lit(0.0)).otherwise(F.least(size, F.lit(1.0)))


def caused_probability(config: ResponsesConfig, effect: Column, frequency: Column, channel: Column) -> Column:
    """The chance that the exposure of ordinal ``frequency`` causes a conversion: the effect × the
    channel's factor × what this exposure adds to 1 − e^(−f / saturation_frequency), halved for
    each ordinal past wear_out_frequency."""
    k, scale = frequency.cast("double"), F.lit(config.saturation_frequency)
    added = F.exp(-(k - F.lit(1.0)) / scale) - F.exp(-k / scale)
    wear = F.pow(F.lit(0.5), F.greatest(k - F.lit(float(config.wear_out_frequency)), F.lit(0.0)))
    factor = F.coalesce(R.lookup(channel, CHANNEL_CONVERSION_FACTOR), F.lit(1.0))
    return F.least(effect * factor * added * wear, F.lit(1.0))


def _delay_seconds(seed: int, response_type: str | Column, window_hours: float, *keys: Column | str) -> Column:
    """Whole seconds from an exposure to its response: an exponential with the type's mean
    (``RESPONSE_DELAY_MEAN_HOURS``) truncated to the attribution window."""
    if isinstance(response_type, str):
        mean = F.lit(RESPONSE_DELAY_MEAN_HOURS[response_type])
    else:
        mean = R.lookup(response_type, RESPONSE_DELAY_MEAN_HOURS)
    u = R.uniform(seed, RESPONSES, "delay", *keys)
    hours = -mean * F.log(F.lit(1.0) - u * (F.lit(1.0) - F.exp(F.lit(-window_hours) / mean)))
    return F.least(F.floor(hours * F.lit(3600.0)), F.lit(int(window_hours * 3600))).cast("bigint")


def caused_conversions(exposures: DataFrame, config: ResponsesConfig, params: RunParameters) -> DataFrame:
    """Per exposure, the conversion it may cause: ``_probability``, whether it does (``_caused``) and
    when (``_epoch``, after a delay with the conversion's mean, inside the attribution window).
    Every exposure can cause one, addressable or not (view-through)."""
    seed = params.seed
    effect = campaign_effect(seed, config, F.col("campaign_id"))
    probability = caused_probability(config, effect, F.col("frequency"), F.col("channel"))
    delay = _delay_seconds(seed, "conversion", params.attribution_window_hours, "exposure_id", F.lit("caused"))
    return exposures.select(
        "exposure_id",
        "campaign_id",
        "individual_id",
        probability.alias("_probability"),
        (R.uniform(seed, CONVERSIONS, "caused", "exposure_id") < probability).alias("_caused"),
        (F.unix_timestamp("exposure_ts") + delay).alias("_epoch"),
    )


def _organic_conversions(audience_truth: DataFrame, params: RunParameters, day_numbers: list[int]) -> DataFrame:
    """Each person converts on their own on a day with probability daily_conversion_rate, at a
    uniform second of that day."""
    seed = params.seed
    if not day_numbers:
        return audience_truth.select(
            "individual_id", F.lit(0).cast("bigint").alias("_epoch"), F.lit(0).cast("bigint").alias("_order")
        ).where(F.lit(False))
    days = audience_truth.select(
        "individual_id", "daily_conversion_rate", F.explode(F.array(*[F.lit(d) for d in day_numbers])).alias("_day")
    )
    second = F.floor(R.uniform(seed, CONVERSIONS, "organic_ts", "individual_id", "_day") * F.lit(SECONDS_PER_DAY))
    order = F.lit(ORGANIC_ORDER) + F.col("_day").cast("bigint") * F.lit(INDIVIDUAL_KEY_SHIFT) + F.col("individual_id")
    return days.where(
        R.uniform(seed, CONVERSIONS, "organic", "individual_id", "_day") < F.col("daily_conversion_rate")
    ).select(
        "individual_id",
        (F.col("_day").cast("bigint") * F.lit(SECONDS_PER_DAY) + second).alias("_epoch"),
        order.alias("_order"),
    )


def observed_on_live_identifier(conversions: DataFrame, identity_mappings: DataFrame, seed: int) -> DataFrame:
    """``conversions`` (individual_id, _epoch, _order) with ``mapping_id``: one of the person's
    identifiers live at _epoch, picked by hash; a conversion while none is live is dropped."""
    held = held_identifiers(identity_mappings)
    live = F.filter("_held", lambda m: (m["first"] <= F.col("_epoch")) & (m["last"] >= F.col("_epoch")))
    # try_: Spark may evaluate the pick before the filter on rows with no live identifier (ANSI mode
    # would fail element_at on their empty array); those rows are dropped either way.
    picked = F.try_element_at(
        F.col("_live"),
        (F.floor(R.uniform(seed, CONVERSIONS, "identifier", "_order") * F.size("_live")) + F.lit(1)).cast("int"),
    )
    return (
        conversions.join(held, "individual_id")
        .withColumn("_live", live)
        .where(F.size("_live") > 0)
        .withColumn("mapping_id", picked["mapping_id"])
        .drop("_held", "_live")
    )


def _linked_to_last_exposure(conversions: DataFrame, exposures: DataFrame, params: RunParameters) -> DataFrame:
    """``conversions`` with the exposure an ad server links them to: the last addressable exposure
    on the same identifier at or before the conversion, within the attribution window (or none)."""
    window = int(params.attribution_window_hours * 3600)
    candidates = exposures.where(F.col("addressable")).select(
        F.col("exposure_id").alias("_linked"),
        "mapping_id",
        F.col("campaign_id").alias("_linked_campaign"),
        F.unix_timestamp("exposure_ts").alias("_linked_epoch"),
    )
    last = (
        conversions.select("_order", "mapping_id", "_epoch")
        .join(candidates, "mapping_id")
        .where(
            (F.col("_linked_epoch") <= F.col("_epoch")) & (F.col("_linked_epoch") >= F.col("_epoch") - F.lit(window))
        )
        .groupBy("_order")
        .agg(
            F.max_by(
                F.struct("_linked", "_linked_campaign", "_linked_epoch"), F.struct("_linked_epoch", "_linked")
            ).alias("_link")
        )
    )
    return (
        conversions.join(last, "_order", "left")
        .select(
            "*",
            F.col("_link._linked").alias("exposure_id"),
            F.col("_link._linked_campaign").alias("campaign_id"),
            F.col("_link._linked_epoch").alias("_exposure_epoch"),
        )
        .drop("_link")
    )


def _exposure_responses(
    exposures: DataFrame,
    audience: DataFrame,
    identity_mappings: DataFrame,
    config: ResponsesConfig,
    params: RunParameters,
) -> DataFrame:
    """Clicks, engagements and visits: each addressable exposure responds at most once, type t with
    probability response_rates[channel][t] × m / E[m], where m = exp(propensity_effect ×
    (propensity_to_convert − 0.5)) and E[m] is its mean over ``audience`` (so a channel's rates are
    its mean rates over the audience; a person missing from ``audience`` counts as propensity 0.5).
    A person's rates are scaled down together if they would exceed 1. The response is observed on
    the exposure's identifier while it is live."""
    seed = params.seed
    key = "exposure_id"
    types = [t for t in EXPOSURE_RESPONSE_TYPES if any(r.get(t, 0.0) > 0 for r in config.response_rates.values())]

    def multiplier(propensity: Column) -> Column:
        return F.exp(F.lit(config.propensity_effect) * (propensity.cast("double") - F.lit(0.5)))

    mean_multiplier = audience.agg(
        F.coalesce(
            (F.sum(multiplier(F.col("propensity_to_convert")).cast(EXACT)) / F.count(F.lit(1))).cast("double"),
            F.lit(1.0),
        ).alias("_mean_multiplier")
    )
    relative = multiplier(F.coalesce(F.col("propensity_to_convert"), F.lit(0.5))) / F.col("_mean_multiplier")
    totals = {c: sum(r.get(t, 0.0) for t in types) for c, r in config.response_rates.items()}
    total = F.coalesce(R.lookup(F.col("channel"), totals), F.lit(0.0)) * relative
    scale = F.when(total > F.lit(1.0), F.lit(1.0) / total).otherwise(F.lit(1.0))
    u = R.uniform(seed, RESPONSES, "respond", key)
    response_type = None
    cumulative = {c: 0.0 for c in config.response_rates}
    for name in types:
        for c, r in config.response_rates.items():
            cumulative[c] += r.get(name, 0.0)
        below = u < F.coalesce(R.lookup(F.col("channel"), cumulative), F.lit(0.0)) * relative * scale
        response_type = F.when(below, F.lit(name)) if response_type is None else response_type.when(below, F.lit(name))
    if response_type is None:
        response_type = F.lit(None).cast("string")
    delay = _delay_seconds(seed, F.col("response_type"), params.attribution_window_hours, key)
    last_seen = identity_mappings.select("mapping_id", F.unix_seconds("last_seen").alias("_last_seen"))
    return (
        exposures.where(F.col("addressable"))
        .select(key, "campaign_id", "individual_id", "mapping_id", "exposure_ts", "channel")
        .join(audience.select("individual_id", "propensity_to_convert"), "individual_id", "left")
        .crossJoin(F.broadcast(mean_multiplier))
        .withColumn("response_type", response_type)
        .where(F.col("response_type").isNotNull())
        .withColumn("_exposure_epoch", F.unix_timestamp("exposure_ts"))
        .withColumn("_epoch", F.col("_exposure_epoch") + delay)
        .join(last_seen, "mapping_id")
        .where(F.col("_epoch") <= F.col("_last_seen"))
        .select(
            (F.col(key) * F.lit(2)).alias("_order"),
            key,
            "campaign_id",
            "individual_id",
            "mapping_id",
            "response_type",
            "_epoch",
            "_exposure_epoch",
            F.lit(None).cast("string").alias("cause"),
            F.lit(None).cast("bigint").alias("cause_campaign_id"),
            F.lit(None).cast("bigint").alias("cause_exposure_id"),
        )
    )


def responses_with_causes(
    exposures: DataFrame,
    audience: DataFrame,
    audience_truth: DataFrame,
    identity_mappings: DataFrame,
    config: ResponsesConfig,
    params: RunParameters,
    days: Sequence[dt.date],
) -> DataFrame:
    """Every response whose response_ts falls on one of ``days``, numbered within its day, with
    response_events' columns but value and conversion_truth's (cause, cause_campaign_id,
    cause_exposure_id), and ``_value``: a conversion's value before its cause's goal factor.

    ``exposures`` must cover [min(days) − attribution window, max(days)].
    """
    seed = params.seed
    day_numbers = _day_numbers(days)
    on_days = _on_days(_epoch_day(F.col("_epoch")), day_numbers)
    clicks_and_visits = _exposure_responses(exposures, audience, identity_mappings, config, params).where(on_days)

    caused = (
        caused_conversions(exposures, config, params)
        .where(F.col("_caused"))
        .where(on_days)
        .select(
            (F.col("exposure_id") * F.lit(2) + F.lit(1)).alias("_order"),
            "individual_id",
            "_epoch",
            F.lit("campaign").alias("cause"),
            F.col("campaign_id").alias("cause_campaign_id"),
            F.col("exposure_id").alias("cause_exposure_id"),
        )
    )
    organic = _organic_conversions(audience_truth, params, day_numbers).select(
        "_order",
        "individual_id",
        "_epoch",
        F.lit("organic").alias("cause"),
        F.lit(None).cast("bigint").alias("cause_campaign_id"),
        F.lit(None).cast("bigint").alias("cause_exposure_id"),
    )
    conversions = _linked_to_last_exposure(
        observed_on_live_identifier(caused.unionByName(organic), identity_mappings, seed), exposures, params
    ).withColumn("response_type", F.lit("conversion"))

    responses = clicks_and_visits.unionByName(conversions.select(*clicks_and_visits.columns)).withColumns(
        {"event_date": F.date_from_unix_date(_epoch_day(F.col("_epoch")).cast("int")), "_one": F.lit(1)}
    )
    value = F.lit(config.conversion_value_median) * F.exp(
        F.lit(config.conversion_value_sigma) * R.standard_normal(seed, RESPONSES, "value", "_order")
    )
    numbered = with_contiguous_ids(responses, "_order", "_one", "_offset", group="event_date")
    linked = F.col("_exposure_epoch").isNotNull()
    return numbered.select(
        day_scoped_key(F.col("event_date"), F.col("_offset") + F.lit(1)).alias("response_id"),
        "exposure_id",
        "campaign_id",
        "individual_id",
        "mapping_id",
        "response_type",
        timestamp_at(F.col("_epoch")).alias("response_ts"),
        F.when(linked, timestamp_at(F.col("_exposure_epoch"))).alias("exposure_ts"),
        F.when(linked, (F.col("_epoch") - F.col("_exposure_epoch")) / F.lit(3600.0)).alias("time_to_conversion_hours"),
        F.when(F.col("response_type") == "conversion", value).alias("_value"),
        "event_date",
        "cause",
        "cause_campaign_id",
        "cause_exposure_id",
    )


@generates(RESPONSE_EVENTS)
def generate_response_events(
    spark: SparkSession,
    exposures: DataFrame,
    campaigns: DataFrame,
    audience: DataFrame,
    audience_truth: DataFrame,
    identity_mappings: DataFrame,
    config: ResponsesConfig,
    params: RunParameters,
    days: Sequence[dt.date],
) -> DataFrame:
    """Responses whose response_ts falls on one of ``days`` (:func:`responses_with_causes`,
    without the causes).

    Clicks, engagements and visits follow an addressable exposure after a delay with their
    type's mean (``RESPONSE_DELAY_MEAN_HOURS``) truncated to the attribution window, in whole
    seconds, so time_to_conversion_hours is exact; a response drawn after its identifier's
    last_seen is never seen. Conversions — organic at the person's latent daily rate, or caused
    by an exposure with probability :func:`caused_probability` — are observed on one of the
    person's live identifiers and linked to the last addressable exposure on it within the
    attribution window, else carry no exposure. Conversions carry a log-normal value; one a
    campaign caused is worth its goal's factor (``GOAL_VALUE_FACTOR``) times an organic one.
    """
    responses = responses_with_causes(exposures, audience, audience_truth, identity_mappings, config, params, days)
    goals = campaigns.select(F.col("campaign_id").alias("cause_campaign_id"), F.col("goal").alias("_goal"))
    factor = F.coalesce(R.lookup(F.col("_goal"), GOAL_VALUE_FACTOR), F.lit(1.0))
    # When, not clip alone: greatest/least skip NULLs, and clicks, engagements and visits carry no value.
    value = F.when(F.col("_value").isNotNull(), R.clip(F.round(F.col("_value") * factor, 2), 0.0, MAX_VALUE_12_2))
    return responses.join(F.broadcast(goals), "cause_campaign_id", "left").withColumn(
        "value", value.cast("decimal(12,2)")
    )


@generates(CONVERSION_TRUTH)
def generate_conversion_truth(
    spark: SparkSession,
    exposures: DataFrame,
    audience: DataFrame,
    audience_truth: DataFrame,
    identity_mappings: DataFrame,
    config: ResponsesConfig,
    params: RunParameters,
    days: Sequence[dt.date],
) -> DataFrame:
    """Why each conversion of ``days`` happened: the same draws as :func:`generate_response_events`
    (so the same response ids), keeping the conversions and their cause."""
    responses = responses_with_causes(exposures, audience, audience_truth, identity_mappings, config, params, days)
    return responses.where(F.col("response_type") == "conversion")


def _exact_sum(column: str) -> Column:
    """The sum of a DOUBLE column, the same whatever order the rows come in: each value rounded to
    18 decimals and added exactly as a DECIMAL, then returned as a DOUBLE."""
    return F.sum(F.col(column).cast(EXACT)).cast("double")


@generates(CAMPAIGN_TRUTH)
def generate_campaign_truth(
    spark: SparkSession,
    campaigns: DataFrame,
    assignments: DataFrame,
    audience_truth: DataFrame,
    exposures: DataFrame,
    identity_mappings: DataFrame,
    conversion_truth: DataFrame,
    config: ResponsesConfig,
    params: RunParameters,
) -> DataFrame:
    """Each campaign's true effect over its measurement period (its flight's days inside the window).

    baseline_conversion_rate is the mean over its eligible audience of daily_conversion_rate ×
    the period's days. true_absolute_lift is the sum, over the campaign's exposures, of the
    probability that each causes a conversion that lands in the period and is observed
    (:func:`caused_conversions`, then :func:`observed_on_live_identifier` on its time), divided
    by the treatment group's size: the expected treatment-minus-holdout difference in observed
    conversions per person, since assignment is random and independent of every other campaign.
    true_incremental_conversions counts ``conversion_truth``'s conversions it caused in the period.
    """
    seed = params.seed
    window_start, window_end = params.window_start, params.end_date
    periods = campaigns.select(
        "campaign_id",
        F.greatest(F.col("start_date"), F.lit(window_start)).alias("period_start"),
        F.least(F.col("end_date"), F.lit(window_end)).alias("period_end"),
    )
    in_period = (F.col("_day") >= F.col("period_start")) & (F.col("_day") <= F.col("period_end"))
    sizes = assignments.groupBy("campaign_id").agg(
        F.count(F.when(F.col("group") == "treatment", 1)).alias("treatment_size"),
        F.count(F.when(F.col("group") == "holdout", 1)).alias("holdout_size"),
    )
    # Sums of doubles depend on the order Spark adds them in (partitioning): sum exact decimals instead,
    # so the truth is the same row for row however the run is partitioned.
    baseline = (
        assignments.select("campaign_id", "individual_id")
        .join(audience_truth.select("individual_id", "daily_conversion_rate"), "individual_id")
        .groupBy("campaign_id")
        .agg((_exact_sum("daily_conversion_rate") / F.count(F.lit(1))).alias("_mean_rate"))
    )
    draws = caused_conversions(exposures, config, params).withColumn(
        "_order", F.col("exposure_id") * F.lit(2) + F.lit(1)
    )
    observable = observed_on_live_identifier(draws, identity_mappings, seed).select(
        "campaign_id", "_probability", F.date_from_unix_date(_epoch_day(F.col("_epoch")).cast("int")).alias("_day")
    )
    expected = (
        observable.join(F.broadcast(periods), "campaign_id")
        .where(in_period)
        .groupBy("campaign_id")
        .agg(_exact_sum("_probability").alias("_expected"))
    )
    realised = (
        conversion_truth.where(F.col("cause") == "campaign")
        .select(F.col("cause_campaign_id").alias("campaign_id"), F.col("event_date").alias("_day"))
        .join(F.broadcast(periods), "campaign_id")
        .where(in_period)
        .groupBy("campaign_id")
        .agg(F.count(F.lit(1)).alias("_realised"))
    )
    period_days = (F.datediff("period_end", "period_start") + F.lit(1)).cast("double")
    joined = (
        periods.join(sizes, "campaign_id", "left")
        .join(baseline, "campaign_id", "left")
        .join(expected, "campaign_id", "left")
        .join(realised, "campaign_id", "left")
    )
    treatment = F.coalesce(F.col("treatment_size"), F.lit(0))
    base = F.coalesce(F.col("_mean_rate"), F.lit(0.0)) * period_days
    absolute = F.when(treatment > 0, F.coalesce(F.col("_expected"), F.lit(0.0)) / treatment).otherwise(F.lit(0.0))
    return joined.select(
        "campaign_id",
        "period_start",
        "period_end",
        treatment.alias("treatment_size"),
        F.coalesce(F.col("holdout_size"), F.lit(0)).alias("holdout_size"),
        campaign_effect(seed, config, F.col("campaign_id")).alias("effect"),
        base.alias("baseline_conversion_rate"),
        absolute.alias("true_absolute_lift"),
        F.when(base > 0, absolute / base).otherwise(F.lit(0.0)).alias("true_relative_lift"),
        F.coalesce(F.col("_realised"), F.lit(0)).alias("true_incremental_conversions"),
    )
