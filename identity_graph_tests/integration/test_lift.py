"""A lift study scored against campaign_truth, at 100,000 households.

The graph's own generators make households, individuals, identifiers, each person's latent
conversion rate (audience_truth), 40 campaigns, their randomised assignments, every exposure
and every response over a 30-day window; only audience_attributes is the stand-in
test_campaign_generation uses (segment and propensity by hash), so the content engagements
need not be generated. A standard intent-to-treat estimator — the difference in observed
conversions per person between treatment and holdout over each campaign's flight inside the
window, with a 95 % normal interval — is computed from the observed tables alone by the SQL
docs/measurement.md shows, and compared with the truth.
"""

from __future__ import annotations

import datetime as dt
import math

import pytest
from pyspark.sql import functions as F

from identity_graph.config import DemographicsConfig, HouseholdsConfig, IdentifiersConfig, RunParameters
from identity_graph.config.campaigns import AudienceTruthConfig, CampaignsConfig, ResponsesConfig
from identity_graph.generation import generate_households, generate_identity_mappings, generate_individuals
from identity_graph.generation.campaigns import (
    generate_campaign_assignments,
    generate_campaign_exposures,
    generate_campaigns,
)
from identity_graph.generation.conversions import (
    generate_audience_truth,
    generate_campaign_truth,
    generate_conversion_truth,
    generate_response_events,
)
from identity_graph_tests.integration.test_campaign_generation import audience_stand_in
from identity_graph_tests.support.docs import code_blocks
from identity_graph_tests.support.stored_graph import ROOT, read

NUM_HOUSEHOLDS = 100_000
NUM_CAMPAIGNS = 40
PARAMS = RunParameters(seed=42, days=30, partitions=2)
Z_95 = 1.96
GUIDE = ROOT / "docs" / "measurement.md"


def stored(frame):
    return frame.localCheckpoint(eager=True)


@pytest.fixture(scope="module")
def study(spark):
    """The observed tables a lift study gets, and the truth it is scored against."""
    days = [PARAMS.window_start + dt.timedelta(days=i) for i in range(PARAMS.days)]
    households = generate_households(spark, HouseholdsConfig(num_households=NUM_HOUSEHOLDS), PARAMS).cache()
    individuals = stored(generate_individuals(spark, households, DemographicsConfig(), PARAMS))
    households.unpersist()
    mappings = stored(generate_identity_mappings(spark, individuals, IdentifiersConfig(), PARAMS))
    audience = stored(audience_stand_in(individuals, PARAMS.seed))
    truth = stored(generate_audience_truth(spark, individuals, AudienceTruthConfig(), PARAMS))
    campaigns = stored(generate_campaigns(spark, CampaignsConfig(num_campaigns=NUM_CAMPAIGNS), PARAMS))
    assignments = stored(generate_campaign_assignments(spark, campaigns, audience, PARAMS))
    exposures = stored(generate_campaign_exposures(spark, campaigns, assignments, mappings, PARAMS, days))
    config = ResponsesConfig()
    responses = stored(
        generate_response_events(spark, exposures, campaigns, audience, truth, mappings, config, PARAMS, days)
    )
    causes = stored(generate_conversion_truth(spark, exposures, audience, truth, mappings, config, PARAMS, days))
    campaign_truth = stored(
        generate_campaign_truth(spark, campaigns, assignments, truth, exposures, mappings, causes, config, PARAMS)
    )
    return {
        "campaigns": campaigns,
        "campaign_assignments": assignments,
        "response_events": responses,
        "campaign_truth": campaign_truth,
    }


def guide_sql() -> tuple[str, str, str]:
    """docs/measurement.md's SQL: the lift estimate scored against campaign_truth, the attribution gap,
    then spend against the truth."""
    lift, gap, spend = ("\n".join(body) for info, _, body in code_blocks(GUIDE) if info == "sql")
    return lift, gap, spend


def itt_estimates(assignments, responses, campaigns) -> dict[int, tuple[float, float]]:
    """Per campaign, computed apart from the guide's SQL: treatment minus holdout conversions per
    person over its flight inside the responses' days, and the half-width of the 95 % interval."""
    first, last = responses.agg(F.min("event_date"), F.max("event_date")).first()
    periods = campaigns.select(
        "campaign_id",
        F.greatest(F.col("start_date"), F.lit(first)).alias("start"),
        F.least(F.col("end_date"), F.lit(last)).alias("end"),
    )
    conversions = responses.where(F.col("response_type") == "conversion").select(
        "individual_id", F.to_date("response_ts").alias("day")
    )
    per_person = (
        assignments.join(F.broadcast(periods), "campaign_id")
        .join(conversions, "individual_id", "left")
        .groupBy("campaign_id", "individual_id", "group")
        .agg(F.count(F.when(F.col("day").between(F.col("start"), F.col("end")), 1)).alias("y"))
    )
    rows = per_person.groupBy("campaign_id", "group").agg(
        F.avg("y").alias("mean"), F.var_samp("y").alias("var"), F.count("*").alias("n")
    )
    arms: dict[int, dict[str, tuple[float, float, int]]] = {}
    for r in rows.collect():
        arms.setdefault(r.campaign_id, {})[r.group] = (r.mean, r["var"] or 0.0, r.n)
    estimates = {}
    for campaign_id, arm in arms.items():
        (mt, vt, nt), (mh, vh, nh) = arm["treatment"], arm["holdout"]
        estimates[campaign_id] = (mt - mh, Z_95 * math.sqrt(vt / nt + vh / nh))
    return estimates


def test_intent_to_treat_intervals_cover_the_true_lift_and_zero_effect_campaigns_show_none(spark, study):
    """The guide's SQL on the 100,000-household study: the 95 % interval covers true_absolute_lift for
    at least 90 % of the campaigns, at least 90 % of the zero-effect campaigns show no significant lift,
    and some campaigns' lift is large enough to detect."""
    for name in ("campaigns", "campaign_assignments", "response_events", "campaign_truth"):
        study[name].createOrReplaceTempView(name)
    lift, *_ = guide_sql()
    rows = spark.sql(lift).collect()
    assert len(rows) == NUM_CAMPAIGNS
    report = [
        (r.campaign_id, round(r.true_absolute_lift, 5), round(r.lift_low, 5), round(r.lift_high, 5)) for r in rows
    ]
    covered = [r for r in rows if r.interval_covers_truth]
    zero = [r for r in rows if r.zero_effect]
    assert len(covered) >= 0.9 * len(rows), report
    assert len(zero) >= 5 and sum(not r.significant_lift for r in zero) >= 0.9 * len(zero), report
    assert any(r.significant_lift for r in rows if not r.zero_effect), report


def test_realised_incremental_conversions_match_the_expected_lift(study):
    """Over all campaigns, the conversions campaigns really caused (true_incremental_conversions) are
    within 4.5 standard errors of what their true lifts expect (Σ true_absolute_lift × treatment_size)."""
    truth = study["campaign_truth"].collect()
    realised = sum(t.true_incremental_conversions for t in truth)
    expected = sum(t.true_absolute_lift * t.treatment_size for t in truth)
    assert realised > 1000 and abs(realised - expected) <= 4.5 * math.sqrt(expected), (realised, expected)


def test_the_measurement_guide_runs_on_a_stored_graph_and_agrees_with_an_independent_estimate(spark, graph):
    """docs/measurement.md's Python and SQL, run as written on the shared graph's stored tables: the lift
    estimates equal an estimate computed apart; the gap query shows zero-effect campaigns causing nothing,
    and last-touch credit adding up to the conversions that have a touch."""
    setup = "\n".join("\n".join(body) for info, _, body in code_blocks(GUIDE) if info == "python")
    exec(setup.replace('"warehouse/', f'"{graph}/'), {"spark": spark})  # the guide's own code, as a reader runs it
    lift, gap, spend = guide_sql()
    rows = {r.campaign_id: r for r in spark.sql(lift).collect()}
    expected = itt_estimates(
        read(spark, graph, "campaign_assignments"),
        read(spark, graph, "response_events"),
        read(spark, graph, "campaigns"),
    )
    assert set(rows) == set(expected) and rows
    for campaign_id, (difference, margin) in expected.items():
        assert rows[campaign_id].estimated_lift == pytest.approx(difference, abs=1e-12)
        assert rows[campaign_id].lift_high - rows[campaign_id].estimated_lift == pytest.approx(margin, rel=1e-3)
    credit = spark.sql(gap).collect()
    assert all(r.true_incremental_conversions == 0 for r in credit if r.zero_effect)
    touched = read(spark, graph, "outcome_metrics").select("response_id").distinct().count()
    assert sum(r.last_touch_conversions for r in credit) == pytest.approx(touched)
    costs = spark.sql(spend).collect()
    assert {r.campaign_id for r in costs} == set(rows)
    assert all(r.spend <= r.period_budget and r.period_budget <= r.budget for r in costs)
    assert all(r.true_cost_per_incremental_conversion is None for r in costs if r.zero_effect)
    # Credited by last touch though it caused nothing: a cost per conversion all the same.
    credited = {r.campaign_id for r in credit if r.zero_effect and r.last_touch_conversions}
    assert all(r.last_touch_cost_per_conversion is not None for r in costs if r.campaign_id in credited)
