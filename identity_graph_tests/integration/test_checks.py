"""Asset checks on real stored tables: each corrupted on purpose in a copy of the shared graph.

Every check here is shown failing with the right counts on a table broken in one known
way; the CLI test in test_graph.py shows all of them passing on a clean graph. The
corruptions are plain Delta SQL on a copy, so the shared graph stays intact.
"""

import shutil

import dagster as dg
import pytest
from pyspark.sql import functions as F

from identity_graph.checks.asset_checks import DATA_CHECKS, PERMISSIONS_CHECK
from identity_graph.config.identity import HouseholdsConfig
from identity_graph.definitions import ALL_ASSETS
from identity_graph.resources.databricks import STEP_LAUNCHER
from identity_graph.resources.location import TableLocation
from identity_graph_tests.support.stored_graph import RUN_CONFIG, TABLES, path, project_resources, read, versions

EVERYTHING = ALL_ASSETS


@pytest.fixture
def copy(graph, tmp_path):
    """A private copy of the shared graph's warehouse (Delta logs hold relative paths, so a copy is a valid table)."""
    target = tmp_path / "warehouse"
    shutil.copytree(graph, target)
    return target


def run_checks(warehouse, instance, *keys: tuple[str, str]) -> tuple[dg.ExecuteInProcessResult, dict]:
    """Run the named checks (table, check) alone against ``warehouse``; their evaluations by key."""
    selection = dg.AssetSelection.checks(*[dg.AssetCheckKey(dg.AssetKey(t), c) for t, c in keys])
    result = dg.materialize(
        EVERYTHING, selection=selection, resources=project_resources(warehouse), instance=instance, raise_on_error=False
    )
    evaluations = {
        (
            e.asset_check_evaluation_data.asset_key.path[-1],
            e.asset_check_evaluation_data.check_name,
        ): e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }
    return result, evaluations


def _tables(warehouse) -> dict[str, str]:
    return {name: f"delta.`{path(warehouse, name)}`" for name in TABLES}


def sql(spark, warehouse, statement: str) -> None:
    """Run ``statement`` with ``{table}`` placeholders replaced by the copy's Delta paths."""
    spark.sql(statement.format(**_tables(warehouse)))


def append_copies(table: str, where: str, **changes: str):
    """A corruption appending ``table``'s rows matching ``where``, with columns replaced by SQL expressions."""

    def corrupt(spark, warehouse) -> None:
        rows = read(spark, warehouse, table).where(where)
        for column, expression in changes.items():
            rows = rows.withColumn(column, F.expr(expression).cast(rows.schema[column].dataType))
        rows.write.format("delta").mode("append").save(path(warehouse, table))

    return corrupt


def with_ids(query: str, statement: str):
    """A corruption running ``statement`` with ``{ids}`` set to the keys ``query`` selects
    (Delta's UPDATE and DELETE take no subqueries)."""

    def corrupt(spark, warehouse) -> None:
        tables = _tables(warehouse)
        ids = [str(row[0]) for row in spark.sql(query.format(**tables)).collect()]
        assert ids, query
        spark.sql(statement.format(ids=", ".join(ids), **tables))

    return corrupt


def corrupt(spark, warehouse, corruption) -> None:
    """Apply a corruption: Delta SQL with ``{table}`` placeholders, or a function of (spark, warehouse)."""
    if callable(corruption):
        corruption(spark, warehouse)
    else:
        sql(spark, warehouse, corruption)


def value(evaluation, name):
    return evaluation.metadata[name].value


# (table, check, corrupting statement, rows the check must report failing)
CORRUPTIONS = [
    pytest.param(
        "individuals", "foreign_key_household_id",
        append_copies("individuals", "individual_id <= 3", individual_id="individual_id + 1000000", household_id="household_id + 900000"),
        3, id="orphan individuals",
    ),
    pytest.param(
        "response_events", "foreign_key_exposure_id",
        with_ids("SELECT exposure_id FROM {response_events} WHERE exposure_id IS NOT NULL GROUP BY exposure_id "
            "HAVING count(*) = 1 ORDER BY exposure_id LIMIT 2", "DELETE FROM {campaign_exposures} WHERE exposure_id IN ({ids})"),
        2, id="responses whose exposures are gone",
    ),
    pytest.param(
        "households", "primary_key_unique",
        "INSERT INTO {households} SELECT * FROM {households} WHERE household_id = 7",
        2, id="duplicated household key",
    ),
    pytest.param(
        "households", "requested_row_count",
        "DELETE FROM {households} WHERE household_id > 395",
        None, id="households short of the request",
    ),
    pytest.param(
        "individuals", "individuals_per_household",
        "DELETE FROM {individuals} WHERE individual_id IN (10, 20)",
        2, id="households missing a member",
    ),
    pytest.param(
        "identity_mappings", "first_seen_not_after_last_seen",
        "UPDATE {identity_mappings} SET first_seen = last_seen + INTERVAL 1 DAY WHERE mapping_id = 5",
        1, id="first_seen after last_seen",
    ),
    pytest.param(
        "content_engagements", "duration_for_views_only",
        with_ids(
            "SELECT event_id FROM {content_engagements} WHERE engagement_type <> 'view' ORDER BY event_id LIMIT 3",
            "UPDATE {content_engagements} SET duration_seconds = 5 WHERE event_id IN ({ids})",
        ),
        3, id="duration on non-views",
    ),
    pytest.param(
        "content_engagements", "events_inside_window",
        with_ids(
            "SELECT event_id FROM {content_engagements} ORDER BY event_id LIMIT 4",
            "UPDATE {content_engagements} SET event_ts = event_ts + INTERVAL 1 DAY WHERE event_id IN ({ids})",
        ),
        4, id="event_ts off its event_date",
    ),
    pytest.param(
        "content_engagements", "observed_on_live_identifier",
        with_ids(
            "SELECT event_id FROM {content_engagements} ORDER BY event_id LIMIT 3",
            "UPDATE {content_engagements} SET device_type = CASE WHEN device_type = 'mobile' THEN 'desktop' "
            "ELSE 'mobile' END WHERE event_id IN ({ids})",
        ),
        3, id="engagement on an identifier of another device's type",
    ),
    pytest.param(
        "audience_attributes", "affinities_sum_to_one",
        with_ids(
            "SELECT min(individual_id) FROM {audience_attributes}",
            "UPDATE {audience_attributes} SET affinity_scores = map('News', 0.5D) WHERE individual_id IN ({ids})",
        ),
        1, id="affinities summing to 0.5",
    ),
    pytest.param(
        "content_engagements", "no_engagement_after_churn",
        with_ids(
            "SELECT individual_id FROM {content_engagements} GROUP BY individual_id HAVING count(*) = 1 "
            "ORDER BY 1 LIMIT 2",
            "UPDATE {audience_truth} SET churned_at = TIMESTAMP '2026-10-20 00:00:00' WHERE individual_id IN ({ids})",
        ),
        2, id="engagements after their person churned",
    ),
    pytest.param(
        "audience_attributes", "churners_classed_churned",
        with_ids(
            "SELECT individual_id FROM {audience_attributes} WHERE behavioral_classification != 'Churned' "
            "ORDER BY 1 LIMIT 2",
            "UPDATE {audience_truth} SET churned_at = TIMESTAMP '2026-10-01 00:00:00' WHERE individual_id IN ({ids})",
        ),
        2, id="churners not classed Churned",
    ),
    pytest.param(
        "campaigns", "flight_dates_ordered",
        "UPDATE {campaigns} SET end_date = start_date - INTERVAL 1 DAY WHERE campaign_id = 2",
        1, id="campaign ending before it starts",
    ),
    pytest.param(
        "campaign_assignments", "assigned_at_flight_start",
        with_ids(
            "SELECT assignment_id FROM {campaign_assignments} ORDER BY assignment_id LIMIT 2",
            "UPDATE {campaign_assignments} SET assigned_at = assigned_at + INTERVAL 1 HOUR WHERE assignment_id IN ({ids})",
        ),
        2, id="assignment made after the flight started",
    ),
    pytest.param(
        "campaign_exposures", "treatment_group_only",
        with_ids(
            "SELECT campaign_id * 137438953472 + individual_id FROM {campaign_exposures} "
            "GROUP BY campaign_id, individual_id HAVING count(*) = 1 ORDER BY 1 LIMIT 3",
            "UPDATE {campaign_assignments} SET `group` = 'holdout' WHERE assignment_id IN ({ids})",
        ),
        3, id="exposures of people in the campaign's holdout",
    ),
    pytest.param(
        "campaign_exposures", "inside_campaign_flight",
        with_ids(
            "SELECT exposure_id FROM {campaign_exposures} ORDER BY exposure_id LIMIT 2",
            "UPDATE {campaign_exposures} SET channel = 'radio' WHERE exposure_id IN ({ids})",
        ),
        2, id="exposure on a channel the campaign does not use",
    ),
    pytest.param(
        "campaign_exposures", "frequency_cap_held",
        with_ids(
            "SELECT e.exposure_id FROM {campaign_exposures} e JOIN {campaign_exposures} f "
            "ON e.campaign_id = f.campaign_id AND e.individual_id = f.individual_id AND f.frequency = 1 "
            "WHERE e.frequency = 2 ORDER BY 1 LIMIT 2",
            "UPDATE {campaign_exposures} SET frequency = 1 WHERE exposure_id IN ({ids})",
        ),
        2, id="a person's second exposure numbered 1 again",
    ),
    pytest.param(
        "campaign_exposures", "observed_on_live_identifier",
        with_ids(
            "SELECT min(exposure_id) FROM {campaign_exposures} WHERE addressable UNION ALL "
            "SELECT min(exposure_id) FROM {campaign_exposures} WHERE NOT addressable",
            "UPDATE {campaign_exposures} SET addressable = NOT addressable WHERE exposure_id IN ({ids})",
        ),
        2, id="addressable exposure without an identifier, contextual one with one",
    ),
    pytest.param(
        "response_events", "observed_on_live_identifier",
        with_ids(
            "SELECT min(response_id) FROM {response_events}",
            "UPDATE {response_events} SET response_ts = TIMESTAMP '2030-01-01 00:00:00' WHERE response_id IN ({ids})",
        ),
        1, id="response after its identifier's last_seen",
    ),
    pytest.param(
        "response_events", "response_after_exposure",
        with_ids(
            "SELECT min(response_id) FROM {response_events}",
            "UPDATE {response_events} SET response_ts = exposure_ts - INTERVAL 1 HOUR WHERE response_id IN ({ids})",
        ),
        1, id="response before its exposure",
    ),
    pytest.param(
        "response_events", "no_clicks_on_ctv_or_audio",
        with_ids(
            "SELECT exposure_id FROM {response_events} WHERE response_type = 'click' ORDER BY exposure_id LIMIT 2",
            "UPDATE {campaign_exposures} SET channel = 'ctv' WHERE exposure_id IN ({ids})",
        ),
        2, id="clicks on CTV impressions",
    ),
    pytest.param(
        "conversion_truth", "causes_explain_every_conversion",
        with_ids(
            "SELECT response_id FROM {conversion_truth} WHERE cause = 'campaign' ORDER BY response_id LIMIT 2",
            "UPDATE {conversion_truth} SET cause = 'organic' WHERE response_id IN ({ids})",
        ),
        2, id="caused conversions relabelled organic",
    ),
    pytest.param(
        "campaign_truth", "truth_consistent_with_assignments",
        "UPDATE {campaign_truth} SET holdout_size = holdout_size + 1 WHERE campaign_id = 1",
        1, id="campaign truth with a holdout size that is not the assignments'",
    ),
    pytest.param(
        "campaign_delivery", "delivery_matches_exposures",
        "UPDATE {campaign_delivery} SET impressions = impressions + 1 WHERE campaign_id = 1",
        1, id="delivery counting an impression no exposure holds",
    ),
    pytest.param(
        "campaign_delivery", "budget_is_planned_impressions_at_cpm",
        "UPDATE {campaign_delivery} SET planned_impressions = planned_impressions * 2 + 10 WHERE campaign_id IN (1, 2)",
        2, id="budgets that are not their planned impressions at the CPM",
    ),
    pytest.param(
        "campaign_delivery", "spend_within_paced_budget",
        with_ids(
            "SELECT campaign_id FROM {campaign_delivery} WHERE period_budget > 0 ORDER BY 1 LIMIT 1",
            "UPDATE {campaign_delivery} SET spend = period_budget * 1.1, pacing = 1.1 WHERE campaign_id IN ({ids})",
        ),
        1, id="spend above the pro-rated budget",
    ),
    pytest.param(
        "campaign_delivery", "spend_within_paced_budget",
        with_ids(
            "SELECT campaign_id FROM {campaign_delivery} WHERE period_budget >= 0.02 ORDER BY 1 LIMIT 2",
            "UPDATE {campaign_delivery} SET spend = period_budget * 0.5, pacing = 0.5 WHERE campaign_id IN ({ids})",
        ),
        2, id="spend below the pacing share of the pro-rated budget",
    ),
    pytest.param(
        "outcome_metrics", "attribution_weights_sum_to_one",
        "UPDATE {outcome_metrics} SET attribution_weight = attribution_weight + 0.25 WHERE outcome_id = 1",
        1, id="weights summing to 1.25",
    ),
]  # fmt: skip


@pytest.fixture(scope="module")
def clean(graph, graph_instance) -> dict:
    """The evaluations of every check CORRUPTIONS breaks, on the clean shared graph, in one run
    (checks read tables and write none)."""
    _, evaluations = run_checks(graph, graph_instance, *{(p.values[0], p.values[1]) for p in CORRUPTIONS})
    return evaluations


@pytest.mark.parametrize(("table", "check", "statement", "failing"), CORRUPTIONS)
def test_each_check_fails_on_its_corruption_with_the_right_count(
    spark, graph_instance, clean, copy, table, check, statement, failing
):
    assert clean[(table, check)].passed, f"{table}.{check} must pass on the clean graph first"

    corrupt(spark, copy, statement)
    _, after = run_checks(copy, graph_instance, (table, check))
    evaluation = after[(table, check)]
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    if failing is not None:
        assert value(evaluation, "failing_rows") == failing, evaluation.description
    if "sample" in evaluation.metadata:
        assert 0 < len(value(evaluation, "sample")) <= 5


def test_the_count_check_compares_with_the_config_recorded_in_the_delta_commit_whatever_the_instance(spark, copy):
    """The shared graph was generated in ``graph_instance`` with 400 households (the default is 1,000).
    Checked from another, empty Dagster instance (another DAGSTER_HOME, a wiped one), the count check
    still expects the 400 its Delta commit recorded, and passes. Five households planted as a new
    Delta version carrying the original write's record: it names the requested and stored counts."""
    key = ("households", "requested_row_count")
    households = path(copy, "households")
    with dg.DagsterInstance.ephemeral() as other:
        assert other.get_latest_materialization_event(dg.AssetKey("households")) is None
        _, found = run_checks(copy, other, key)
        evaluation = found[key]
        assert evaluation.passed, evaluation.description
        assert (value(evaluation, "expected"), value(evaluation, "rows")) == (400, 400)
        assert "recorded config" in evaluation.description

        history = spark.sql(f"DESCRIBE HISTORY delta.`{households}`")
        original = history.where(history["userMetadata"].contains('"recorded"')).first()["userMetadata"]
        before = versions(spark, copy, ["households"])["households"]
        planted = read(spark, copy, "households").orderBy("household_id").limit(5)
        planted = planted.withColumn("household_id", F.col("household_id") + 1_000_000)
        planted.write.format("delta").mode("append").option("userMetadata", original).save(households)
        assert versions(spark, copy, ["households"])["households"] == before + 1
        assert TableLocation(warehouse=str(copy)).recorded(spark, "households")["config"]["num_households"] == 400

        _, found = run_checks(copy, other, key)
    evaluation = found[key]
    assert not evaluation.passed
    assert (value(evaluation, "expected"), value(evaluation, "rows")) == (400, 405)
    assert "exactly num_households = 400 rows (recorded config) — failed: 405 rows" in evaluation.description


def test_the_count_check_falls_back_to_the_default_config_when_the_commit_recorded_none(spark, graph, tmp_path):
    """The shared graph's 400 households written as a plain Delta table (no record in its commit):
    the count check expects the default num_households and says it had no recorded config."""
    warehouse = tmp_path / "warehouse"
    read(spark, graph, "households").write.format("delta").save(path(warehouse, "households"))
    assert TableLocation(warehouse=str(warehouse)).recorded(spark, "households") is None
    key = ("households", "requested_row_count")
    with dg.DagsterInstance.ephemeral() as other:
        _, found = run_checks(warehouse, other, key)
    evaluation = found[key]
    assert not evaluation.passed
    assert (value(evaluation, "expected"), value(evaluation, "rows")) == (HouseholdsConfig().num_households, 400)
    assert "default config: the Delta commit recorded no config" in evaluation.description


def test_orphan_sample_names_the_missing_parents(spark, graph_instance, copy):
    corrupt(spark, copy, CORRUPTIONS[0].values[2])
    _, found = run_checks(copy, graph_instance, ("individuals", "foreign_key_household_id"))
    sample = value(found[("individuals", "foreign_key_household_id")], "sample")
    assert all(row["household_id"] > 900_000 for row in sample) and len(sample) == 3


def test_a_distribution_check_warns_without_failing_the_run(spark, graph_instance, copy):
    sql(spark, copy, "UPDATE {households} SET income_bracket = '<30K'")
    result, found = run_checks(copy, graph_instance, ("households", "income_bracket_mix"))
    evaluation = found[("households", "income_bracket_mix")]
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    assert set(value(evaluation, "outside_tolerance")) == {"<30K", "30-60K", "60-100K", "100-150K", "150K+"}
    assert result.success


def test_holdout_share_warns_when_a_campaign_holds_out_nobody(spark, graph_instance, copy):
    check = ("campaign_assignments", "holdout_share_as_planned")
    _, clean = run_checks(copy, graph_instance, check)
    assert clean[check].passed
    sql(spark, copy, "UPDATE {campaign_assignments} SET `group` = 'treatment' WHERE campaign_id = 2")
    result, found = run_checks(copy, graph_instance, check)
    evaluation = found[check]
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    assert set(value(evaluation, "outside_tolerance")) == {"2"} and result.success


def test_response_rate_rising_with_propensity_warns_when_propensity_is_reversed(spark, graph_instance, copy):
    """audience_attributes with propensity_to_convert turned upside down: the people who respond most
    now sit in the bottom decile, so the top decile's rate is no longer ≥ 3× the bottom's (a warning).
    The same check on the stored graph passes."""
    _, clean = run_checks(copy, graph_instance, ("response_events", "response_rate_rises_with_propensity"))
    assert clean[("response_events", "response_rate_rises_with_propensity")].passed
    sql(spark, copy, "UPDATE {audience_attributes} SET propensity_to_convert = 1 - propensity_to_convert")
    result, found = run_checks(copy, graph_instance, ("response_events", "response_rate_rises_with_propensity"))
    evaluation = found[("response_events", "response_rate_rises_with_propensity")]
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    assert value(evaluation, "lift") < 1 and result.success


def test_a_failing_blocking_check_stops_the_assets_downstream(spark, graph_instance, copy):
    """viewership_patterns is rebuilt from engagements of a person no longer in individuals: its
    foreign-key check fails, and audience_attributes, downstream, is not built on it."""
    corrupt(
        spark,
        copy,
        with_ids(
            "SELECT min(individual_id) FROM {content_engagements}",
            "DELETE FROM {individuals} WHERE individual_id IN ({ids})",
        ),
    )
    before = versions(spark, copy)
    selection = dg.AssetSelection.assets("viewership_patterns", "audience_attributes")
    result = dg.materialize(
        EVERYTHING,
        selection=selection,
        resources=project_resources(copy),
        instance=graph_instance,
        raise_on_error=False,
    )
    assert not result.success
    after = versions(spark, copy)
    assert after["viewership_patterns"] == before["viewership_patterns"] + 1
    assert after["audience_attributes"] == before["audience_attributes"]
    failed = [
        e.asset_check_evaluation_data.check_name
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.asset_check_evaluation_data.passed
    ]
    assert failed == ["foreign_key_individual_id"]

    # With the cause fixed (individuals regenerated from the stored households), the same run succeeds.
    fixed = dg.materialize(
        EVERYTHING,
        selection=dg.AssetSelection.assets("individuals", "viewership_patterns", "audience_attributes"),
        resources=project_resources(copy),
        run_config={"ops": {}, "resources": RUN_CONFIG["resources"]},
        instance=graph_instance,
    )
    assert fixed.success
    assert versions(spark, copy)["audience_attributes"] == before["audience_attributes"] + 1


def test_a_failed_key_check_skips_the_checks_of_the_tables_built_on_its_table(spark, graph_instance, copy):
    """In a run of checks alone, a duplicated individual fails individuals' key check: the steps of
    the tables downstream of individuals (identity_mappings, campaign_exposures) do not run, so
    their checks are skipped; a table not built on individuals (campaigns) is still checked."""
    sql(spark, copy, "INSERT INTO {individuals} SELECT * FROM {individuals} WHERE individual_id = 7")
    keys = [
        ("individuals", "primary_key_unique"),
        ("identity_mappings", "primary_key_unique"),
        ("identity_mappings", "foreign_key_individual_id"),
        ("identity_mappings", "first_seen_not_after_last_seen"),
        ("identity_mappings", "identifiers_per_individual"),
        ("campaign_exposures", "foreign_key_mapping_id"),
        ("campaign_exposures", "foreign_key_campaign_id"),
        ("campaigns", "primary_key_unique"),
    ]
    result, found = run_checks(copy, graph_instance, *keys)
    assert not result.success
    assert {key: e.passed for key, e in found.items()} == {
        ("individuals", "primary_key_unique"): False,
        ("campaigns", "primary_key_unique"): True,
    }
    assert found[("individuals", "primary_key_unique")].metadata["failing_rows"].value == 2
    started = {e.step_key for e in result.all_events if e.is_step_start}
    assert "campaigns" in started and not started & {"identity_mappings", "campaign_exposures"}, started


def test_checks_after_a_one_day_run_read_every_stored_partition(spark, graph_instance, copy):
    """A run rewriting one day of content_engagements checks the whole stored table (and reads
    every partition of partitioned parents alike): checks are unpartitioned steps."""
    result = dg.materialize(
        EVERYTHING,
        selection=dg.AssetSelection.assets("content_engagements"),
        resources=project_resources(copy),
        run_config={"resources": RUN_CONFIG["resources"]},
        partition_key="2026-10-29",
        instance=graph_instance,
    )
    assert result.success
    evaluations = [
        e.asset_check_evaluation_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    stored = read(spark, copy, "content_engagements").count()
    checked = {
        e.check_name: value(e, "checked_rows")
        for e in evaluations
        if "checked_rows" in e.metadata and e.check_name != "profile"
    }
    assert set(checked) == {
        "primary_key_unique",
        "foreign_key_individual_id",
        "foreign_key_mapping_id",
        "events_inside_window",
        "duration_for_views_only",
        "observed_on_live_identifier",
        "no_engagement_after_churn",
    }
    assert (
        set(checked.values()) == {stored}
        and stored > read(spark, copy, "content_engagements").where("event_date = '2026-10-29'").count()
    )


def test_a_check_that_raises_leaves_the_others_of_its_step_reported(spark, graph_instance, copy):
    """content_engagements stored without event_ts: its window check cannot be computed and fails
    the step, naming it; the checks run after it in the same step still report their results."""
    stored = read(spark, copy, "content_engagements").drop("event_ts").localCheckpoint()
    stored.write.format("delta").mode("overwrite").option("overwriteSchema", "true").partitionBy("event_date").save(
        path(copy, "content_engagements")
    )
    names = ["primary_key_unique", "events_inside_window", "duration_for_views_only"]
    result, found = run_checks(copy, graph_instance, *[("content_engagements", name) for name in names])
    assert not result.success
    assert {name: e.passed for (_, name), e in found.items()} == {
        "primary_key_unique": True,
        "duration_for_views_only": True,
    }
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert "1 check(s) of content_engagements raised: events_inside_window" in failure.step_failure_data.error.message


def test_each_table_is_one_step_with_its_permission_and_data_checks():
    """One step per table: the table's asset with its blocking permission check and every data check
    of the table, subsettable (checks alone, or the asset alone), each on the step launcher."""
    assert len(ALL_ASSETS) == len(TABLES)
    for asset in ALL_ASSETS:
        (table,) = [key.path[-1] for key in asset.keys]
        assert asset.can_subset and STEP_LAUNCHER in asset.required_resource_keys
        names = sorted(key.name for key in asset.check_keys)
        assert names == sorted([PERMISSIONS_CHECK, *(c.name for c in DATA_CHECKS if c.table == table)])
    assert sum(len(a.check_keys) for a in ALL_ASSETS) == 119


# -- the target's permissions ---------------------------------------------------------------


def test_permission_checks_alone_report_every_table_and_the_remedy(tmp_path, graph_instance):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the warehouse should be")
    warehouse = blocker / "warehouse"
    result = dg.materialize(
        EVERYTHING,
        selection=dg.AssetSelection.checks(
            *[k for a in ALL_ASSETS for k in a.check_keys if k.name == "target_permissions"]
        ),
        resources=project_resources(warehouse),
        instance=graph_instance,
        raise_on_error=False,
    )
    evaluations = [
        e.asset_check_evaluation_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    assert len(evaluations) == len(TABLES)
    for evaluation in evaluations:
        assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
        assert str(blocker) in evaluation.description
        assert value(evaluation, "statements"), evaluation.description


def test_a_failed_permission_check_stops_its_table_before_it_is_generated(tmp_path):
    """Past the run's preflight (recorded as passed, as the command line does after its own), a
    table's step still asks the catalog first: with the warehouse under a regular file the households
    step fails naming the problem, generates nothing, and individuals is not built on it."""
    from identity_graph.resources.catalog import PREFLIGHT_OK, PREFLIGHT_TAG

    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the warehouse should be")
    result = dg.materialize(
        EVERYTHING,
        selection=["households", "individuals"],
        resources=project_resources(blocker / "warehouse"),
        run_config={"ops": {"households": {"config": {"num_households": 50}}}},
        tags={PREFLIGHT_TAG: PREFLIGHT_OK},
        raise_on_error=False,
    )
    assert not result.success and not result.get_asset_materialization_events()
    (evaluation,) = [
        e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and e.asset_check_evaluation_data.check_name == "target_permissions"
    ]
    assert not evaluation.passed and evaluation.asset_key == dg.AssetKey("households")
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert failure.step_key == "households"
    message = failure.step_failure_data.error.message
    assert "households was not generated: the target cannot take it" in message and str(blocker) in message
    assert "individuals" not in {e.step_key for e in result.all_events if e.is_step_start}


def test_preflight_fails_the_run_before_any_table_is_generated(spark, graph_instance, copy):
    """A table directory replaced by a file: a run of campaigns and downstream stops at run start,
    naming the problem, and every stored table keeps its Delta version."""
    before = versions(spark, copy)
    blocked = copy / "main" / "identity_graph" / "outcome_metrics"
    shutil.rmtree(blocked)
    blocked.write_text("not a table")
    result = dg.materialize(
        EVERYTHING,
        selection=dg.AssetSelection.from_string("campaigns*"),
        resources=project_resources(copy),
        instance=graph_instance,
        raise_on_error=False,
        tags={"dagster/asset_partition_range_start": "2026-10-27", "dagster/asset_partition_range_end": "2026-10-31"},
    )
    assert not result.success
    assert not result.get_asset_materialization_events()
    failure = "\n".join(
        e.event_specific_data.error.message
        for e in result.all_events
        if getattr(e.event_specific_data, "error", None) is not None
    )
    assert "outcome_metrics" in failure and "Nothing was generated" in failure
    others = [t for t in before if t != "outcome_metrics"]
    assert versions(spark, copy, others) == {t: before[t] for t in others}
    assert read(spark, copy, "campaigns").count() == 6


def test_preflight_runs_without_any_check_selected(spark, tmp_path):
    """The IO manager verifies the target when it is set up, so even a run of assets alone stops
    before generating: here the warehouse would lie under a regular file."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the warehouse should be")
    result = dg.materialize(
        ALL_ASSETS, selection=["households"], resources=project_resources(blocker / "wh"), raise_on_error=False
    )
    assert not result.success and not result.get_asset_materialization_events()
    failure = "\n".join(
        e.event_specific_data.error.message
        for e in result.all_events
        if getattr(e.event_specific_data, "error", None) is not None
    )
    assert "Nothing was generated" in failure and str(blocker) in failure
    assert not result.get_step_success_events()

    # Once the cause is gone, the same run writes the table.
    blocker.unlink()
    blocker.mkdir()
    config = {"ops": {"households": {"config": {"num_households": 50}}}}
    assert dg.materialize(
        ALL_ASSETS, selection=["households"], resources=project_resources(blocker / "wh"), run_config=config
    ).success


def test_cli_permissions_only_names_every_missing_location_and_exits_1(tmp_path, monkeypatch, capsys):
    """`identity-graph check --permissions-only` reads no table (no Spark): with an uncreatable
    warehouse it prints a FAIL line per table and the remedy, and exits 1."""
    from identity_graph import cli

    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the warehouse should be")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    assert cli.main(["check", "--permissions-only", "--warehouse", str(blocker / "wh")]) == 1
    out = capsys.readouterr().out
    n = len(TABLES)
    assert f"{n} checks: {n} ERROR failed, 0 WARN failed, 0 skipped" in out, out
    assert sum(line.split()[1:2] == ["target_permissions"] and "FAIL" in line.split() for line in out.splitlines()) == n
    assert str(blocker) in out


def test_every_foreign_key_and_primary_key_measure_counts_its_corruption(spark, graph):
    """Every FK edge and every primary key, on the stored tables with planted rows: one orphan row per
    edge (the FK set to a value no parent has, under a fresh key), one duplicated row per table. The
    measures the checks run find exactly those. (Dagster runs them as blocking checks, so a failed
    one skips the checks reading its table: the Dagster-level tests above take one at a time.)"""
    from identity_graph.checks import integrity
    from identity_graph.model import FOREIGN_KEYS, TABLES

    corrupted = {}
    for declared in TABLES:
        table, key = declared.name, declared.primary_key
        stored = read(spark, graph, table)
        first = stored.orderBy(key).limit(1).localCheckpoint()
        rows = first  # a duplicate of the first row
        for i, (child, fk) in enumerate(FOREIGN_KEYS):
            if child is declared:
                # A fresh key (unless the key is the FK itself, as in viewership_patterns), and a parent no one has.
                orphan = first.withColumn(key, F.lit(10**15 + i).cast("bigint")).withColumn(
                    fk.column, F.lit(-7).cast("bigint")
                )
                rows = rows.unionByName(orphan)
        corrupted[table] = stored.unionByName(rows.localCheckpoint())

    for child, fk in FOREIGN_KEYS:
        found = integrity.orphans(
            corrupted[child.name], fk.column, corrupted[fk.table], fk.parent_column, child.primary_key
        )
        if fk.column == child.primary_key:
            # The key is the foreign key (identity_truth.observation_id): every planted row's fresh key is an orphan too.
            planted = sum(1 for c, _ in FOREIGN_KEYS if c is child)
            assert found.failing == planted and -7 in [row[fk.column] for row in found.sample], (child.name, fk)
        else:
            assert (found.failing, [row[fk.column] for row in found.sample]) == (1, [-7]), (child.name, fk)
    for declared in TABLES:
        found = integrity.duplicate_keys(corrupted[declared.name], declared.primary_key)
        assert (found.failing, found.figures["duplicated_keys"]) == (2, 1), declared.name


def test_share_and_per_key_measures_run_one_spark_job_each(spark):
    """The distribution measures count each category (NULL too) or key in one Spark job, the total
    being the sum of the group counts."""
    from identity_graph.checks import integrity

    frame = spark.createDataFrame([(1, "a"), (1, "b"), (2, "a"), (3, None), (3, "a"), (3, "a")], "k bigint, c string")
    context = spark.sparkContext

    def jobs(name, measure):
        context.setJobGroup(name, name)
        try:
            return measure(), len(context.statusTracker().getJobIdsForGroup(name))
        finally:
            context.setLocalProperty("spark.jobGroup.id", None)

    (gaps, rows), share_jobs = jobs(
        "share_gaps", lambda: integrity.share_gaps(frame, "c", {"a": 0.5, "b": 0.25, "z": 0.25})
    )
    assert rows == 6 and share_jobs == 1
    assert gaps == pytest.approx({"a": 4 / 6 - 0.5, "b": 1 / 6 - 0.25, "z": -0.25})
    found, per_key_jobs = jobs("rows_per_key", lambda: integrity.rows_per_key(frame, "k", 2, 2))
    assert (found.failing, found.checked, found.figures["mean"], per_key_jobs) == (2, 3, 2.0, 1)
