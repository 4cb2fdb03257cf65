"""The engagement family at ≥ 20,000 individuals over 7 days: patterns, heavy tails, derivations, determinism.

Tolerances (≈ 3–4 standard errors or more at these sizes; measured over seeds 1, 7, 42):
hour shares ±0.008 and day shares ±0.004 absolute (events cluster in sessions and heavy
users, so an hour's share varies more than independent events would); weekend lift ±0.05;
category shares ±0.02; mean events per person-day ±5 %; fitted power-law exponent ±0.15
(realised 2.51–2.60 for α = 2.5: the estimator is biased up by ~0.05 by the Poisson noise
and the cap on daily rates).

The exponent is fitted by the continuous maximum-likelihood (Hill) estimator over the
per-person totals T of the window at or above x_min = 2 × mean_events_per_day × days,
with the usual ½ continuity correction for counts (Clauset, Shalizi & Newman 2009):
α̂ = 1 + n / Σ ln(T_i / (x_min − ½)).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math

import pytest
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from identity_graph.checks import integrity
from identity_graph.config import DemographicsConfig, HouseholdsConfig, IdentifiersConfig, RunParameters
from identity_graph.config.campaigns import AudienceTruthConfig, ResponsesConfig
from identity_graph.config.engagement import AudienceConfig, EngagementConfig
from identity_graph.generation import generate_households, generate_identity_mappings, generate_individuals
from identity_graph.generation.conversions import generate_audience_truth, generate_response_events
from identity_graph.generation.engagement import (
    generate_audience_attributes,
    generate_content_engagements,
    generate_viewership_patterns,
)
from identity_graph.generation.random import lookup
from identity_graph.model.vocabularies import (
    DEFAULT_CATEGORY_WEIGHTS,
    DEFAULT_SEGMENT_BY_CATEGORY,
    DEVICE_IDENTIFIER,
    PERSONA_WEIGHTS_BY_AGE,
)
from identity_graph_tests.support.docs import ROOT, code_blocks
from identity_graph_tests.support.fingerprint import differing_rows

NUM_HOUSEHOLDS = 8_000
PARAMS = RunParameters(seed=42, end_date=dt.date(2026, 10, 31), days=7, partitions=2)
DAYS = [PARAMS.window_start + dt.timedelta(days=i) for i in range(PARAMS.days)]
#: Short enough that a 7-day window has churned people, so every class is exercised; churners
#: churn on one of the window's first 4 days, so every one who engaged at all is classed 'Churned'.
AUDIENCE = AudienceConfig(churn_inactive_days=3)
TRUTH = AudienceTruthConfig(churn_lead_days=3)
EVENING = range(19, 23)

HOUR_TOLERANCE = 0.008
DAY_TOLERANCE = 0.004
LIFT_TOLERANCE = 0.05
CATEGORY_TOLERANCE = 0.02
EXPONENT_TOLERANCE = 0.15
GUIDE = ROOT / "docs" / "segmentation.md"


@pytest.fixture(scope="module")
def world(spark):
    households = generate_households(spark, HouseholdsConfig(num_households=NUM_HOUSEHOLDS), PARAMS)
    individuals = generate_individuals(spark, households, DemographicsConfig(), PARAMS).cache()
    mappings = generate_identity_mappings(spark, individuals, IdentifiersConfig(), PARAMS).cache()
    truth = generate_audience_truth(spark, individuals, TRUTH, PARAMS).cache()
    events = generate_content_engagements(spark, mappings, truth, EngagementConfig(), PARAMS, DAYS).cache()
    viewership = generate_viewership_patterns(spark, events, PARAMS).cache()
    audience = generate_audience_attributes(spark, viewership, individuals, AUDIENCE, PARAMS).cache()
    live = live_days(mappings, truth).cache()
    yield {
        "individuals": individuals,
        "mappings": mappings,
        "truth": truth,
        "events": events,
        "viewership": viewership,
        "audience": audience,
        "live": live,
    }
    for frame in (individuals, mappings, truth, events, viewership, audience, live):
        frame.unpersist()


def live_days(mappings: DataFrame, truth: DataFrame) -> DataFrame:
    """(individual_id, event_date) for each day of the window on which one of the person's device
    identifiers is live (first_seen before the day's end, last_seen at or after its start) and the
    person has not churned (the day starts before churned_at)."""
    day_start = F.unix_seconds(F.col("event_date").cast("timestamp"))
    return (
        mappings.where(F.col("identifier_type").isin(*DEVICE_IDENTIFIER.values()))
        .crossJoin(F.broadcast(mappings.sparkSession.createDataFrame([(d,) for d in DAYS], "event_date date")))
        .where((F.unix_seconds("first_seen") < day_start + 86_400) & (F.unix_seconds("last_seen") >= day_start))
        .join(truth.select("individual_id", "churned_at"), "individual_id", "left")
        .where(F.col("churned_at").isNull() | (day_start < F.unix_seconds("churned_at")))
        .select("individual_id", "event_date")
        .distinct()
    )


@pytest.fixture(scope="module")
def totals(world) -> list[int]:
    """Events per person over the window, for every person with a device identifier live on each of
    its days (zeros included), largest first: their person-days all draw from the activity law."""
    always = world["live"].groupBy("individual_id").count().where(F.col("count") == len(DAYS)).select("individual_id")
    per_person = always.join(world["events"].groupBy("individual_id").count(), "individual_id", "left")
    rows = per_person.select(F.coalesce(F.col("count"), F.lit(0)).alias("n")).collect()
    return sorted((r["n"] for r in rows), reverse=True)


@pytest.fixture(scope="module")
def audience_rows(world) -> list[dict]:
    """Audience attributes joined with the viewership they were derived from, on the driver."""
    # Timestamps as epoch seconds: collected TIMESTAMPs would be shifted into the driver's local zone.
    joined = (
        world["audience"]
        .withColumn("computed_at", F.unix_seconds("computed_at"))
        .join(
            world["viewership"].select(
                "individual_id",
                "frequency_daily_avg",
                F.unix_seconds("recency_last_engagement").alias("recency_last_engagement"),
                "category_counts",
            ),
            "individual_id",
        )
    )
    return [r.asDict() for r in joined.collect()]


def hour_day_counts(events: DataFrame) -> tuple[list[float], dict[dt.date, int]]:
    """Shares of events per UTC hour (0–23) and counts per event_date, in one Spark job."""
    rows = events.groupBy("event_date", F.hour("event_ts").alias("hour")).count().collect()
    total = sum(r["count"] for r in rows)
    hours = [sum(r["count"] for r in rows if r["hour"] == h) / total for h in range(24)]
    days: dict[dt.date, int] = {}
    for r in rows:
        days[r["event_date"]] = days.get(r["event_date"], 0) + r["count"]
    return hours, days


def per_live_person_day(days: dict[dt.date, int], live: DataFrame) -> dict[dt.date, float]:
    """Events per day divided by that day's person-days with a live device identifier."""
    people = {r["event_date"]: r["count"] for r in live.groupBy("event_date").count().collect()}
    return {d: n / people[d] for d, n in days.items()}


def weekend_lift(days: dict[dt.date, float]) -> float:
    """Mean events on a Saturday or Sunday over mean events on a weekday."""
    weekend = [n for d, n in days.items() if d.weekday() >= 5]
    weekday = [n for d, n in days.items() if d.weekday() < 5]
    return (sum(weekend) / len(weekend)) / (sum(weekday) / len(weekday))


# -- shape of the events --------------------------------------------------------------------------


def test_schema_keys_and_domains(world):
    events = world["events"]
    assert [(f.name, f.dataType.simpleString()) for f in events.schema.fields] == [
        ("event_id", "bigint"),
        ("individual_id", "bigint"),
        ("mapping_id", "bigint"),
        ("content_id", "bigint"),
        ("content_category", "string"),
        ("engagement_type", "string"),
        ("event_ts", "timestamp"),
        ("event_date", "date"),
        ("duration_seconds", "int"),
        ("device_type", "string"),
        ("session_id", "string"),
    ]
    stats = events.agg(
        F.count("*").alias("rows"),
        F.countDistinct("event_id").alias("ids"),
        F.sum((F.to_date("event_ts") != F.col("event_date")).cast("int")).alias("off_day"),
        F.min("event_date").alias("first"),
        F.max("event_date").alias("last"),
        F.sum((~F.col("engagement_type").isin("view", "click", "share", "like", "comment")).cast("int")).alias(
            "bad_type"
        ),
        F.sum((~F.col("device_type").isin("mobile", "desktop", "tablet", "ctv")).cast("int")).alias("bad_device"),
        F.sum((~F.col("content_category").isin(*DEFAULT_CATEGORY_WEIGHTS)).cast("int")).alias("bad_category"),
        F.sum((~F.col("session_id").rlike("^[0-9a-f]{16}$")).cast("int")).alias("bad_session"),
        F.sum(F.col("content_id").isNull().cast("int")).alias("null_content"),
    ).first()
    assert stats["rows"] == stats["ids"] > 0
    assert stats["off_day"] == 0
    assert (stats["first"], stats["last"]) == (DAYS[0], DAYS[-1])
    assert (
        stats["bad_type"],
        stats["bad_device"],
        stats["bad_category"],
        stats["bad_session"],
        stats["null_content"],
    ) == (0,) * 5
    assert events.join(world["individuals"], "individual_id", "left_anti").count() == 0


def test_every_event_is_observed_on_a_device_identifier_live_at_the_time(world):
    """Each event carries the person's identifier of its device's type (a CTV event the household's CTV
    id), first_seen ≤ event_ts ≤ last_seen; people engage only on days one of their device identifiers
    is live, and a large share of people-days has none (so the rule is not met by accident)."""
    events, mappings = world["events"], world["mappings"]
    expected = lookup(F.col("device_type"), DEVICE_IDENTIFIER)
    finding = integrity.observed_on_live_identifier(events, "event_id", "event_ts", mappings, expected)
    assert finding.checked == events.count() and finding.failing == 0, finding.sample
    engaged_days = events.select("individual_id", "event_date").distinct()
    assert engaged_days.join(world["live"], ["individual_id", "event_date"], "left_anti").count() == 0
    people = world["individuals"].count()
    live = world["live"].count()
    assert 0.5 * people * len(DAYS) < live < people * len(DAYS)
    # Every device type is used, and the CTV's share comes from households holding a CTV id.
    devices = {r["device_type"] for r in events.select("device_type").distinct().collect()}
    assert devices == set(DEVICE_IDENTIFIER)


def test_duration_is_set_for_views_only_and_log_normal(world):
    config = EngagementConfig()
    is_view = F.col("engagement_type") == "view"
    duration = F.col("duration_seconds")
    stats = (
        world["events"]
        .agg(
            F.sum(
                (is_view & (duration.isNull() | (duration < 1) | (duration > config.duration_max_seconds))).cast("int")
            ).alias("bad_view"),
            F.sum((~is_view & duration.isNotNull()).cast("int")).alias("bad_other"),
            F.sum(is_view.cast("int")).alias("views"),
            F.sum((~is_view).cast("int")).alias("others"),
            F.percentile_approx("duration_seconds", 0.5, 10_000).alias("median"),
        )
        .first()
    )
    assert stats["views"] > 0 and stats["others"] > 0
    assert (stats["bad_view"], stats["bad_other"]) == (0, 0)
    assert stats["median"] == pytest.approx(config.duration_median_seconds, rel=0.05)


def test_category_mix_and_concentrated_affinities(world, audience_rows):
    events = world["events"]
    total = events.count()
    shares = {r["content_category"]: r["count"] / total for r in events.groupBy("content_category").count().collect()}
    for category, weight in DEFAULT_CATEGORY_WEIGHTS.items():
        assert shares[category] == pytest.approx(weight, abs=CATEGORY_TOLERANCE), category
    # A per-person favourite concentrates each person's affinity well beyond the largest overall share (0.30).
    engaged = [r for r in audience_rows if sum(r["category_counts"].values()) >= 10]
    top_affinity = sum(max(r["affinity_scores"].values()) for r in engaged) / len(engaged)
    assert top_affinity >= 0.45


# -- time patterns ----------------------------------------------------------------------------------


def test_daily_pattern_peaks_between_19_and_23(world):
    hours, days = hour_day_counts(world["events"])
    window = {start: sum(hours[(start + i) % 24] for i in range(4)) for start in range(24)}
    evening = window[EVENING[0]]
    assert all(evening > share for start, share in window.items() if start != EVENING[0]), window
    assert evening >= 0.33
    # 'daily' has no weekend lift.
    assert weekend_lift(per_live_person_day(days, world["live"])) == pytest.approx(1.0, abs=LIFT_TOLERANCE)


def test_weekly_pattern_lifts_saturday_and_sunday_by_the_factor(spark, world):
    config = EngagementConfig(temporal_pattern="weekly", weekend_factor=1.5)
    hours, days = hour_day_counts(
        generate_content_engagements(spark, world["mappings"], world["truth"], config, PARAMS, DAYS)
    )
    assert weekend_lift(per_live_person_day(days, world["live"])) == pytest.approx(
        config.weekend_factor, abs=LIFT_TOLERANCE
    )
    # The lift moves events toward the weekend; the weekly mean rate per live person-day stays the configured one.
    live = world["live"].count()
    assert sum(days.values()) / live == pytest.approx(config.mean_events_per_day, rel=0.05)
    assert max(range(24), key=lambda h: hours[h]) in EVENING


def test_uniform_pattern_is_flat_over_hours_and_days(spark, world):
    config = EngagementConfig(temporal_pattern="uniform")
    hours, days = hour_day_counts(
        generate_content_engagements(spark, world["mappings"], world["truth"], config, PARAMS, DAYS)
    )
    for hour, share in enumerate(hours):
        assert share == pytest.approx(1 / 24, abs=HOUR_TOLERANCE), hour
    # Days are flat relative to the people who can engage on them (a device identifier live that day).
    live = {r["event_date"]: r["count"] for r in world["live"].groupBy("event_date").count().collect()}
    total, live_total = sum(days.values()), sum(live.values())
    for day, count in days.items():
        assert count / total == pytest.approx(live[day] / live_total, abs=DAY_TOLERANCE), day


# -- heavy-tailed activity --------------------------------------------------------------------------


def test_mean_activity_is_the_configured_rate(totals):
    config = EngagementConfig()
    assert sum(totals) / (len(totals) * len(DAYS)) == pytest.approx(config.mean_events_per_day, rel=0.05)


def test_top_decile_holds_at_least_40_percent_of_events(totals):
    top = totals[: len(totals) // 10]
    assert sum(top) / sum(totals) >= 0.40


def test_fitted_power_law_exponent_matches_config(totals):
    config = EngagementConfig()
    x_min = 2 * config.mean_events_per_day * len(DAYS)
    tail = [t for t in totals if t >= x_min]
    assert len(tail) >= 500
    alpha = 1 + len(tail) / sum(math.log(t / (x_min - 0.5)) for t in tail)
    assert alpha == pytest.approx(config.power_law_exponent, abs=EXPONENT_TOLERANCE)


# -- viewership patterns ------------------------------------------------------------------------------


def _top_by_count(events: DataFrame, column: str, limit: int) -> DataFrame:
    """Per individual, the ``limit`` most frequent values of ``column`` (ties by value), as an ordered array."""
    counts = events.groupBy("individual_id", column).count()
    rank = F.row_number().over(Window.partitionBy("individual_id").orderBy(F.desc("count"), F.asc(column)))
    ranked = counts.withColumn("rank", rank).where(F.col("rank") <= limit)
    return ranked.groupBy("individual_id").agg(
        F.transform(F.sort_array(F.collect_list(F.struct("rank", column))), lambda s: s[column]).alias(column)
    )


def test_viewership_agrees_with_engagements_exactly(world):
    events, viewership = world["events"], world["viewership"]
    expected = (
        events.groupBy("individual_id")
        .agg(F.count("*").alias("total"), F.max("event_ts").alias("last"))
        .join(_top_by_count(events, "content_category", 3), "individual_id")
        .join(_top_by_count(events, "device_type", 1), "individual_id")
        .join(_top_by_count(events.withColumn("hour", F.hour("event_ts")), "hour", 1), "individual_id")
        .join(
            events.groupBy("individual_id", "content_category")
            .count()
            .groupBy("individual_id")
            .agg(F.sort_array(F.collect_list(F.struct("content_category", "count"))).alias("counts")),
            "individual_id",
        )
    )
    # A full outer join: a person missing on either side shows as NULLs, and counts as a mismatch.
    compared = viewership.join(expected, "individual_id", "full_outer")
    mismatches = compared.where(
        F.col("total").isNull()
        | F.col("total_engagements").isNull()
        | (F.col("total_engagements") != F.col("total"))
        | (F.abs(F.col("frequency_daily_avg") - F.col("total") / F.lit(7.0)) > 1e-12)
        | (F.col("recency_last_engagement") != F.col("last"))
        | (F.col("preferred_categories") != F.col("content_category"))
        | (F.col("preferred_device") != F.col("device_type")[0])
        | (F.col("peak_hour") != F.col("hour")[0])
        | (
            F.sort_array(F.map_entries("category_counts")).cast("array<struct<c:string,n:bigint>>")
            != F.col("counts").cast("array<struct<c:string,n:bigint>>")
        )
        | (F.unix_seconds("computed_at") != F.lit(PARAMS.end_epoch))
    )
    assert mismatches.count() == 0


# -- audience attributes --------------------------------------------------------------------------------


def test_affinity_scores_are_shares_summing_to_one(audience_rows):
    for r in audience_rows:
        scores, counts = r["affinity_scores"], r["category_counts"]
        total = sum(counts.values())
        assert set(scores) == set(counts), r["individual_id"]
        assert all(0.0 <= s <= 1.0 for s in scores.values()), r["individual_id"]
        assert abs(sum(scores.values()) - 1.0) <= 1e-6, r["individual_id"]
        assert all(abs(scores[c] - counts[c] / total) <= 1e-12 for c in counts), r["individual_id"]


def test_segments_follow_affinity(audience_rows):
    threshold = AUDIENCE.secondary_affinity_threshold
    with_secondary = 0
    for r in audience_rows:
        ranked = sorted(r["affinity_scores"].items(), key=lambda kv: (-kv[1], kv[0]))
        primary = DEFAULT_SEGMENT_BY_CATEGORY[ranked[0][0]]
        secondary = [DEFAULT_SEGMENT_BY_CATEGORY[c] for c, a in ranked[1:] if a >= threshold]
        assert r["segment_primary"] == primary, r["individual_id"]
        assert list(r["segment_secondary"]) == secondary, r["individual_id"]
        with_secondary += bool(secondary)
    assert 0 < with_secondary < len(audience_rows)


def test_behavioural_class_follows_the_thresholds(audience_rows):
    churn_before = PARAMS.end_epoch - AUDIENCE.churn_inactive_days * 86_400
    seen = set()
    for r in audience_rows:
        if r["recency_last_engagement"] < churn_before:
            expected = "Churned"
        elif r["frequency_daily_avg"] >= AUDIENCE.heavy_user_threshold:
            expected = "Heavy User"
        elif r["frequency_daily_avg"] >= AUDIENCE.moderate_user_threshold:
            expected = "Moderate User"
        else:
            expected = "Light User"
        assert r["behavioral_classification"] == expected, r["individual_id"]
        seen.add(expected)
    assert seen == {"Churned", "Heavy User", "Moderate User", "Light User"}


def test_propensity_spreads_and_rises_with_frequency(audience_rows):
    propensity = sorted(r["propensity_to_convert"] for r in audience_rows)
    assert all(0.0 <= p <= 1.0 for p in propensity)
    deciles = [propensity[len(propensity) * k // 10] for k in range(1, 10)]
    assert deciles[-1] - deciles[0] >= 0.3, deciles
    assert all(b > a for a, b in itertools.pairwise(deciles)), deciles
    by_class: dict[str, list[float]] = {}
    for r in audience_rows:
        by_class.setdefault(r["behavioral_classification"], []).append(r["propensity_to_convert"])
    mean = {c: sum(v) / len(v) for c, v in by_class.items()}
    assert mean["Heavy User"] > mean["Moderate User"] > mean["Light User"], mean
    assert all(r["lifetime_value_estimate"] >= 0 for r in audience_rows)
    assert {r["computed_at"] for r in audience_rows} == {PARAMS.end_epoch}


# -- latent truth: personas and churn -------------------------------------------------------------------


def adjusted_rand_index(pairs: list[tuple[str, str]]) -> float:
    """Hubert and Arabie's adjusted Rand index of two labelings of the same items."""
    from collections import Counter

    def pairs_of(n: int) -> float:
        return n * (n - 1) / 2

    both = sum(pairs_of(n) for n in Counter(pairs).values())
    first = sum(pairs_of(n) for n in Counter(a for a, _ in pairs).values())
    second = sum(pairs_of(n) for n in Counter(b for _, b in pairs).values())
    expected = first * second / pairs_of(len(pairs))
    return (both - expected) / ((first + second) / 2 - expected)


def test_personas_follow_age_and_tilt_content_and_devices(world, audience_rows):
    """Personas are drawn with their age band's weights; each tilts the favourite category (so the
    observed segment) and the primary device its way, while the configured category mix holds over
    everyone (test_category_mix_and_concentrated_affinities)."""
    truth = world["truth"].join(world["individuals"].select("individual_id", "age"), "individual_id")
    bands = [low for low, _ in PERSONA_WEIGHTS_BY_AGE]
    band = F.element_at(F.filter(F.array(*[F.lit(b) for b in reversed(bands)]), lambda b: F.col("age") >= b), 1)
    counts = truth.groupBy(band.alias("band"), "persona").count().collect()
    for low, weights in PERSONA_WEIGHTS_BY_AGE:
        in_band = {r["persona"]: r["count"] for r in counts if r["band"] == low}
        n = sum(in_band.values())
        for persona, weight in weights.items():
            assert in_band.get(persona, 0) / n == pytest.approx(
                weight, abs=4 * math.sqrt(weight * (1 - weight) / n) + 1e-3
            )
    personas = {r["individual_id"]: r["persona"] for r in world["truth"].select("individual_id", "persona").collect()}
    rows = [(personas[r["individual_id"]], r["segment_primary"], r) for r in audience_rows]

    def share(persona: str | None, segment: str) -> float:
        chosen = [s for p, s, _ in rows if persona is None or p == persona]
        return sum(s == segment for s in chosen) / len(chosen)

    assert share("Young Streamer", "Entertainment Seekers") > 1.3 * share(None, "Entertainment Seekers")
    assert share("Busy Professional", "News Junkies") > 1.5 * share(None, "News Junkies")
    assert share("Retired Enthusiast", "Lifelong Learners") > 1.5 * share(None, "Lifelong Learners")
    ari = adjusted_rand_index([(p, s) for p, s, _ in rows])
    shuffled = adjusted_rand_index(list(zip([p for p, _, _ in rows], sorted(s for _, s, _ in rows), strict=True)))
    print(f"adjusted Rand index, segment_primary vs persona: {ari:.3f} (segments unrelated to persona: {shuffled:.3f})")
    assert 0.02 < ari < 0.9 and abs(shuffled) < 0.01
    devices = world["viewership"].select("individual_id", "preferred_device").collect()

    def device_share(persona: str | None, device: str) -> float:
        chosen = [r["preferred_device"] for r in devices if persona is None or personas[r["individual_id"]] == persona]
        return sum(d == device for d in chosen) / len(chosen)

    assert device_share("Retired Enthusiast", "tablet") > 1.5 * device_share(None, "tablet")
    assert device_share("Busy Professional", "desktop") > 1.3 * device_share(None, "desktop")


def test_the_segmentation_guide_scores_segments_and_churn(spark, world, audience_rows):
    """docs/segmentation.md's SQL: its adjusted Rand index is the one computed here independently,
    and the Churned class recalls every churner who engaged."""
    world["audience"].createOrReplaceTempView("audience_attributes")
    world["truth"].createOrReplaceTempView("audience_truth")
    ari_sql, churn_sql = ("\n".join(body) for info, _, body in code_blocks(GUIDE) if info == "sql")
    ari = spark.sql(ari_sql).first()["adjusted_rand_index"]
    personas = {r["individual_id"]: r["persona"] for r in world["truth"].select("individual_id", "persona").collect()}
    assert ari == pytest.approx(
        adjusted_rand_index([(personas[r["individual_id"]], r["segment_primary"]) for r in audience_rows]), abs=1e-9
    )
    churn = spark.sql(churn_sql).first()
    print(f"segment_primary vs persona ARI {ari:.3f}; Churned class {churn.asDict()}")
    assert churn["churned_class_recall"] == 1.0 and 0 < churn["churned_class_precision"] < 1


def test_churners_stop_engaging_and_are_classed_churned(world, audience_rows):
    """churn_share of people churn; none engages from churned_at on; every churner who engaged at all
    is in the 'Churned' class, which also holds people who just went quiet."""
    truth = world["truth"]
    n = truth.count()
    churners = truth.where(F.col("churned_at").isNotNull())
    share = churners.count() / n
    assert share == pytest.approx(TRUTH.churn_share, abs=4 * math.sqrt(TRUTH.churn_share * (1 - TRUTH.churn_share) / n))
    window_start = PARAMS.window_start_epoch
    last_day = window_start + (PARAMS.days - TRUTH.churn_lead_days - 1) * 86_400
    bounds = churners.agg(F.min(F.unix_seconds("churned_at")), F.max(F.unix_seconds("churned_at"))).first()
    assert (bounds[0], bounds[1]) == (window_start, last_day)
    late = world["events"].join(churners, "individual_id").where(F.col("event_ts") >= F.col("churned_at"))
    assert late.count() == 0
    churned_ids = {r["individual_id"] for r in churners.select("individual_id").collect()}
    classes = {r["individual_id"]: r["behavioral_classification"] for r in audience_rows}
    engaged = [i for i in churned_ids if i in classes]
    assert len(engaged) > 100 and all(classes[i] == "Churned" for i in engaged)
    quiet = [i for i, c in classes.items() if c == "Churned" and i not in churned_ids]
    print(f"Churned class: {len(engaged)} churners, {len(quiet)} people who went quiet")


# -- determinism --------------------------------------------------------------------------------------------


def test_a_day_is_identical_alone_and_within_the_window(spark, world):
    day = DAYS[3]
    alone = generate_content_engagements(
        spark, world["mappings"], world["truth"], EngagementConfig(), PARAMS, [day]
    ).cache()
    within = world["events"].where(F.col("event_date") == F.lit(day))
    try:
        assert differing_rows(alone, within) == 0
        assert alone.count() > 0
    finally:
        alone.unpersist()


def test_identical_with_7_partitions(spark, world, shuffle_partitions):
    shuffle_partitions(7)
    # Two days, listed out of order, from 7 input partitions: the same rows as within the 2-partition week.
    days = [DAYS[5], DAYS[1]]
    individuals = world["individuals"].repartition(7)
    mappings = world["mappings"].repartition(7)
    truth = world["truth"].repartition(7)
    events = generate_content_engagements(spark, mappings, truth, EngagementConfig(), PARAMS, days).cache()
    # A person's derived rows depend only on their own events, so a slice of people suffices here.
    some = F.col("individual_id") <= 4_000
    viewership = generate_viewership_patterns(spark, world["events"].where(some).repartition(7), PARAMS)
    audience = generate_audience_attributes(spark, viewership, individuals, AUDIENCE, PARAMS)
    # Viewership and audience side by side, compared in one job.
    derived = audience.join(viewership.drop("computed_at"), "individual_id").cache()
    stored = world["audience"].join(world["viewership"].drop("computed_at"), "individual_id").where(some)
    try:
        assert differing_rows(events, world["events"].where(F.col("event_date").isin(days))) == 0
        assert differing_rows(derived, stored) == 0
        assert events.count() > 0 and derived.count() > 0
    finally:
        events.unpersist()
        derived.unpersist()


def test_custom_categories_are_accepted_and_generated(spark, world):
    config = EngagementConfig(category_weights={"Cooking": 0.7, "Travel": 0.3})
    sample = world["mappings"].where(F.col("individual_id") <= 500)
    events = generate_content_engagements(spark, sample, world["truth"], config, PARAMS, DAYS[:1])
    assert {r["content_category"] for r in events.select("content_category").distinct().collect()} == {
        "Cooking",
        "Travel",
    }


@pytest.mark.parametrize("propensity_effect", [ResponsesConfig().propensity_effect, 0.0])
def test_response_rate_rises_with_the_generated_propensity_at_default_settings(spark, world, propensity_effect):
    """With the propensity this module generates (not a stand-in) and default ResponsesConfig, the top
    propensity decile responds at ≥ 3× the bottom decile's rate: one exposure per person, all at once.
    With propensity_effect 0 the same measure must fail (the ratio stays near 1)."""
    start = DAYS[0]
    exposures = world["audience"].select(
        F.col("individual_id").alias("exposure_id"),
        F.lit(1).cast("bigint").alias("campaign_id"),
        "individual_id",
        F.col("individual_id").alias("mapping_id"),
        F.lit(True).alias("addressable"),
        F.lit(dt.datetime(start.year, start.month, start.day)).alias("exposure_ts"),
        F.lit(1).alias("frequency"),
        F.lit("display").alias("channel"),
    )
    # One identifier per person, live long after the window: every response drawn is observed.
    identifiers = exposures.select(
        "mapping_id",
        "individual_id",
        F.lit("cookie_id").alias("identifier_type"),
        F.lit(dt.datetime(2000, 1, 1)).alias("first_seen"),
        F.lit(dt.datetime(2100, 1, 1)).alias("last_seen"),
    )
    # The window is 168 h, so every response lands within the 8 days from the exposure's.
    days = [start + dt.timedelta(days=i) for i in range(8)]
    # Exposure responses only: no organic conversions (rate 0) and no campaign effect.
    # Display at ten times its default rates: enough responses in the bottom decile to compare.
    rates = {"display": {t: 10 * r for t, r in ResponsesConfig().response_rates["display"].items()}}
    config = ResponsesConfig(propensity_effect=propensity_effect, zero_effect_share=1.0, response_rates=rates)
    no_one_converts = world["audience"].select("individual_id", F.lit(0.0).alias("daily_conversion_rate"))
    campaign = spark.createDataFrame([(1, "awareness")], "campaign_id BIGINT, goal STRING")
    responses = generate_response_events(
        spark, exposures, campaign, world["audience"], no_one_converts, identifiers, config, PARAMS, days
    )
    deciles = world["audience"].select(
        "individual_id", F.ntile(10).over(Window.orderBy("propensity_to_convert", "individual_id")).alias("decile")
    )
    rates = {
        r["decile"]: r["rate"]
        for r in deciles.join(responses.select("individual_id", F.lit(1).alias("responded")), "individual_id", "left")
        .groupBy("decile")
        .agg(F.avg(F.coalesce("responded", F.lit(0))).alias("rate"))
        .collect()
    }
    assert len(rates) == 10 and rates[1] > 0
    print(
        f"propensity_effect {propensity_effect}: response rate by decile {[round(rates[d], 4) for d in range(1, 11)]}"
    )
    if propensity_effect > 0:
        assert rates[10] >= 3 * rates[1], rates
    else:
        assert rates[10] < 2 * rates[1], rates
