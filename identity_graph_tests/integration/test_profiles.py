"""Table profiles: every table of the shared graph has one (its ``profile`` WARN check), its numbers
are recomputed here independently from the stored tables, and a failing profile is a failed warning."""

from decimal import Decimal

import dagster as dg
import pytest
from dagster_pyspark import LazyPySparkResource
from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from identity_graph.assets import checked_asset
from identity_graph.checks.asset_checks import PROFILE_CHECK, profile
from identity_graph.profiles import PROFILES, Profile, markdown_table, profile_households
from identity_graph.resources.catalog import CatalogAccess
from identity_graph.resources.databricks import STEP_LAUNCHER
from identity_graph.resources.delta_io_manager import DeltaIOManager
from identity_graph_tests.support.markdown_tables import number, rows_of
from identity_graph_tests.support.spark import TEST_SPARK_CONFIG
from identity_graph_tests.support.stored_graph import SHARED_GRAPH_TAG, TABLES, local_catalog, read


def graph_profile(instance: dg.DagsterInstance, warehouse, table: str) -> str:
    """The profile check's markdown of ``table`` in the shared graph's run (found by its tag: other
    tests run checks on copies of the graph in the same instance)."""
    (run,) = instance.get_runs(filters=dg.RunsFilter(tags=SHARED_GRAPH_TAG))
    for event in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = event.dagster_event.asset_check_evaluation_data
        if (evaluation.asset_key.to_user_string(), evaluation.check_name) == (table, PROFILE_CHECK):
            return evaluation.metadata["profile"].value
    raise AssertionError(f"no profile check of {table} in the shared graph's run")


def test_every_table_of_the_graph_carries_a_profile(graph, graph_profiles):
    """Each table's materialisation in the shared graph's run shows a markdown profile."""
    for table in TABLES:
        profile = graph_profile(graph_profiles, graph, table)
        assert profile.startswith("**") and "| ---" in profile, table


def test_income_bracket_mix_counts_every_household_and_shares_sum_to_one(spark, graph, graph_profiles):
    """The income mix counts match a recount of the stored households and the shares sum to 100 %."""
    mix = rows_of(graph_profile(graph_profiles, graph, "households"), "income_bracket")
    brackets, total = mix[:-1], mix[-1]
    stored = {
        r.income_bracket: r["count"]
        for r in read(spark, graph, "households").groupBy("income_bracket").count().collect()
    }
    assert {r["income_bracket"]: int(number(r["households"])) for r in brackets} == stored
    assert number(total["households"]) == sum(stored.values()) == 400
    # Shares are shown to 0.1 %: five rounded shares sum to 100 % within 5 × 0.05 %.
    assert sum(number(r["share"]) for r in brackets) == pytest.approx(100.0, abs=0.25)


def test_assignment_profile_recounts_each_campaigns_treatment_and_holdout(spark, graph, graph_profiles):
    rows = rows_of(graph_profile(graph_profiles, graph, "campaign_assignments"), "campaign")
    campaigns, everyone = rows[:-1], rows[-1]
    stored = {
        str(r.campaign_id): (r.eligible, r.treatment, r.holdout)
        for r in read(spark, graph, "campaign_assignments")
        .groupBy("campaign_id")
        .agg(
            F.count("*").alias("eligible"),
            F.count(F.when(F.col("group") == "treatment", 1)).alias("treatment"),
            F.count(F.when(F.col("group") == "holdout", 1)).alias("holdout"),
        )
        .collect()
    }
    shown = {r["campaign"]: tuple(int(number(r[c])) for c in ("eligible", "treatment", "holdout")) for r in campaigns}
    assert shown == stored and len(shown) == 6
    assert int(number(everyone["holdout"])) == sum(h for _, _, h in stored.values()) > 0


def test_events_by_hour_total_the_row_count_and_match_a_recount(spark, graph, graph_profiles):
    """Events by hour: each hour recounted with Spark's hour(), the 24 rows total the table, each row its types."""
    hours = rows_of(graph_profile(graph_profiles, graph, "content_engagements"), "hour (UTC)")[:24]
    assert [r["hour (UTC)"] for r in hours] == [f"{h:02d}" for h in range(24)]
    stored = read(spark, graph, "content_engagements")
    # The session's time zone is UTC, so Spark's own hour() is an independent recount.
    recount = {r.hour: r["count"] for r in stored.groupBy(F.hour("event_ts").alias("hour")).count().collect()}
    assert {int(r["hour (UTC)"]): int(number(r["events"])) for r in hours} == {h: recount.get(h, 0) for h in range(24)}
    assert sum(number(r["events"]) for r in hours) == stored.count()
    for r in hours:
        assert sum(number(r[t]) for t in ("view", "click", "share", "like", "comment")) == number(r["events"])


def test_kpi_row_of_one_campaign_is_recomputed_from_the_stored_tables(spark, graph, graph_profiles):
    """One campaign's KPIs, recomputed in Python from its stored exposures and responses."""
    kpis = rows_of(graph_profile(graph_profiles, graph, "outcome_metrics"), "campaign")
    responses = read(spark, graph, "response_events").where("campaign_id IS NOT NULL").collect()
    # The campaign with both clicks and conversions and the most of them: every KPI is non-trivial.
    best = max(
        {r.campaign_id for r in responses},
        key=lambda c: (
            min(sum(r.campaign_id == c and r.response_type == t for r in responses) for t in ("click", "conversion")),
            sum(r.campaign_id == c for r in responses),
            -c,
        ),
    )
    row = next(r for r in kpis if r["campaign"].split(" ")[0] == str(best))

    exposures = read(spark, graph, "campaign_exposures").where(F.col("campaign_id") == best).collect()
    mine = [r for r in responses if r.campaign_id == best]
    impressions = len(exposures)
    reach = len({e.individual_id for e in exposures})
    spend = sum((e.cost for e in exposures), Decimal(0))
    clicks = sum(r.response_type == "click" for r in mine)
    revenue = sum((r.value for r in mine if r.response_type == "conversion"), Decimal(0))
    assert impressions > 0 and clicks > 0 and revenue > 0, best
    assert number(row["impressions"]) == impressions
    assert number(row["reach"]) == reach
    assert number(row["frequency"]) == pytest.approx(impressions / reach, abs=0.005)
    assert number(row["clicks"]) == clicks
    assert number(row["CTR"]) == pytest.approx(100 * clicks / impressions, abs=0.005)
    assert number(row["conversions"]) == sum(r.response_type == "conversion" for r in mine)
    assert number(row["spend"]) == pytest.approx(float(spend), abs=0.005)
    assert number(row["revenue"]) == pytest.approx(float(revenue), abs=0.005)
    assert number(row["ROAS"]) == pytest.approx(float(revenue / spend), abs=0.005)

    everyone = kpis[-1]
    assert everyone["campaign"].startswith("**all")
    assert number(everyone["impressions"]) == read(spark, graph, "campaign_exposures").count()
    # A conversion credits every campaign its person saw, so the total counts distinct conversions once.
    outcomes = read(spark, graph, "outcome_metrics")
    assert number(everyone["attributed conversions"]) == outcomes.select("response_id").distinct().count()


def test_response_rate_by_propensity_decile_is_recomputed_in_python(spark, graph, graph_profiles):
    """Deciles and rates recomputed in Python from the stored audience, exposures and responses."""
    deciles = rows_of(graph_profile(graph_profiles, graph, "response_events"), "propensity decile")
    people = sorted(
        (r.propensity_to_convert, r.individual_id)
        for r in read(spark, graph, "audience_attributes").select("propensity_to_convert", "individual_id").collect()
    )
    # ntile(10): ten groups in rank order, the first len % 10 of them one larger.
    size, extra = divmod(len(people), 10)
    decile_of, start = {}, 0
    for d in range(1, 11):
        end = start + size + (1 if d <= extra else 0)
        decile_of.update({individual: d for _, individual in people[start:end]})
        start = end
    exposed = [
        decile_of[r.individual_id] for r in read(spark, graph, "campaign_exposures").select("individual_id").collect()
    ]
    # Clicks, engagements and visits: each answers one exposure (conversions are the person's own process).
    answered = [
        decile_of[r.individual_id]
        for r in read(spark, graph, "response_events")
        .where("response_type <> 'conversion'")
        .select("individual_id")
        .collect()
    ]
    exposures = {d: exposed.count(d) for d in range(1, 11)}
    responses = {d: answered.count(d) for d in range(1, 11)}
    assert sum(responses.values()) > 0

    assert [r["propensity decile"] for r in deciles] == [str(d) for d in range(1, 11)]
    for r in deciles:
        d = int(r["propensity decile"])
        assert (number(r["exposures"]), number(r["responses"])) == (exposures[d], responses[d])
        if exposures[d]:
            assert number(r["response rate"]) == pytest.approx(100 * responses[d] / exposures[d], abs=0.005)


def test_a_profile_missing_its_column_fails_loudly(spark):
    """A profile function on a table without its columns raises rather than showing a wrong table."""
    with pytest.raises(AnalysisException):
        profile_households(spark.range(3).withColumnRenamed("id", "household_size"))


# -- a failing profile is a failed warning ------------------------------------------------------


def count_profile(frame: DataFrame, *others: DataFrame) -> str:
    """The row count as a one-row markdown table."""
    return markdown_table(["rows"], [[frame.count()]], left=0)


def missing_column_profile(frame: DataFrame) -> str:
    """A profile reading a column the table does not have: Spark raises."""
    return str(frame.select("no_such_column").collect())


@checked_asset("profiled_ok", [profile("profiled_ok", Profile(count_profile))], permissions=False)
def profiled_ok(context: dg.AssetExecutionContext, spark: LazyPySparkResource, catalog: CatalogAccess) -> DataFrame:
    """Ids 1..10, profiled by an entry that works."""
    return spark.spark_session.range(1, 11)


@checked_asset("profiled_broken", [profile("profiled_broken", Profile(missing_column_profile))], permissions=False)
def profiled_broken(context: dg.AssetExecutionContext, spark: LazyPySparkResource, catalog: CatalogAccess) -> DataFrame:
    """Ids 1..10, profiled by an entry that asks Spark for a column the table lacks."""
    return spark.spark_session.range(1, 11)


def test_a_failing_profile_is_a_failed_warning_and_the_table_stays(spark, tmp_path):
    """A profile that raises is a failed WARN check naming the error; the run succeeds, the table is
    stored, and the write itself carries no profile (the IO manager only stores)."""
    session = LazyPySparkResource(spark_config=TEST_SPARK_CONFIG)
    catalog = local_catalog(tmp_path)
    resources = {
        "spark": session,
        "catalog": catalog,
        "io_manager": DeltaIOManager(spark=session, catalog=catalog),
        STEP_LAUNCHER: dg.ResourceDefinition.none_resource(),
    }
    result = dg.materialize([profiled_ok, profiled_broken], resources=resources)
    assert result.success
    found = {e.asset_key.to_user_string(): e for e in result.get_asset_check_evaluations()}
    assert (
        found["profiled_ok"].passed and found["profiled_ok"].metadata["profile"].value == "| rows |\n| ---: |\n| 10 |"
    )
    broken = found["profiled_broken"]
    assert (broken.passed, broken.severity) == (False, dg.AssetCheckSeverity.WARN)
    assert "not computed: AnalysisException" in broken.description
    for name in ("profiled_ok", "profiled_broken"):
        metadata = result.asset_materializations_for_node(name)[0].metadata
        assert "profile" not in metadata and metadata["dagster/row_count"].value == 10
        assert read(spark, tmp_path, name).count() == 10


def test_every_table_of_the_graph_has_a_profile_check_and_only_those():
    """The registry names every table of the graph and needs only those; each is a WARN check."""
    from identity_graph.definitions import ALL_ASSETS

    assert set(PROFILES) == set(TABLES)
    assert all(set(entry.needs) <= set(TABLES) for entry in PROFILES.values())
    keys = {key.asset_key.to_user_string() for a in ALL_ASSETS for key in a.check_keys if key.name == PROFILE_CHECK}
    assert keys == set(TABLES)
