"""Table maintenance on real Delta tables: a copy of the shared graph OPTIMIZEd and VACUUMed through Dagster."""

import datetime as dt
import glob
import json
import os
import shutil
import uuid

import dagster as dg
import pytest
from dagster_pyspark import LazyPySparkResource
from pydantic import ValidationError

from identity_graph.definitions import defs
from identity_graph.maintenance import (
    LISTING_PARALLELISM_CONF,
    MAINTENANCE_JOB,
    MAINTENANCE_OP,
    MAINTENANCE_SCHEDULE,
    RETENTION_CHECK_CONF,
    SESSION_CONFS,
    MaintenanceConfig,
    maintenance_job,
    vacuum,
    zorder_columns_by_table,
)
from identity_graph.model import EVENT_DATE, EVENT_TABLES
from identity_graph.model import table as declared_table
from identity_graph.resources.catalog import CatalogAccess
from identity_graph.resources.databricks import STEP_LAUNCHER
from identity_graph.resources.location import TableLocation
from identity_graph.resources.spark import session_conf
from identity_graph_tests.support.fingerprint import differing_rows
from identity_graph_tests.support.spark import TEST_SPARK_CONFIG
from identity_graph_tests.support.stored_graph import TABLES, path, project_resources, read


@pytest.fixture
def copy(graph, tmp_path):
    """A private copy of the shared graph's warehouse."""
    target = tmp_path / "warehouse"
    shutil.copytree(graph, target)
    return target


def maintain(warehouse, **config) -> dg.ExecuteInProcessResult:
    return maintenance_job.execute_in_process(
        run_config={"ops": {MAINTENANCE_OP: {"config": config}}},
        resources=project_resources(warehouse),
        raise_on_error=False,
    )


def output_metadata(result) -> dict:
    [event] = [e for e in result.all_node_events if e.event_type_value == "STEP_OUTPUT"]
    return {k: v.value for k, v in event.event_specific_data.metadata.items()}


def observations(result) -> dict[str, dict]:
    return {
        o.asset_key.path[-1]: {k: v.value for k, v in o.metadata.items()}
        for o in result.asset_observations_for_node(MAINTENANCE_OP)
    }


def history(spark, warehouse, table) -> list[dict]:
    rows = spark.sql(f"DESCRIBE HISTORY delta.`{path(warehouse, table)}`").collect()
    return [row.asDict(recursive=True) for row in rows]


def session_confs(spark) -> dict:
    """The settings VACUUM changes for its statement, as explicitly set in the session (None: unset)."""
    return {key: spark.conf.get(key, None) for key in SESSION_CONFS}


def failure_message(result) -> str:
    return "\n".join(
        e.event_specific_data.error.message
        for e in result.all_events
        if getattr(e.event_specific_data, "error", None) is not None
    )


#: Two plain tables and a daily one: every table takes the same path, so three show it at a third of the time.
SAMPLE_TABLES = ["households", "campaigns", "campaign_exposures"]


def test_every_table_is_covered_by_default_with_its_zorder_columns():
    from identity_graph.definitions import ALL_ASSETS

    assert MaintenanceConfig().tables == list(TABLES)
    zorder = zorder_columns_by_table(ALL_ASSETS)
    assert set(zorder) == set(TABLES) and all(zorder.values())


def test_tables_are_optimized_by_their_zorder_columns_and_vacuumed_with_their_data_unchanged(spark, graph, copy):
    conf_before = session_confs(spark)
    result = maintain(copy, tables=SAMPLE_TABLES)
    assert result.success, failure_message(result)

    graph_metadata = defs.resolve_asset_graph()
    observed = observations(result)
    assert set(observed) == set(SAMPLE_TABLES)
    for table in SAMPLE_TABLES:
        entries = history(spark, copy, table)
        optimizes = [e for e in entries if e["operation"] == "OPTIMIZE"]
        assert len(optimizes) == 1, table
        # Z-ordered by exactly the asset's metadata; locally the tables keep Delta partitions, no clustering.
        expected = graph_metadata.get(dg.AssetKey(table)).metadata["zorder_columns"]
        assert json.loads(optimizes[0]["operationParameters"]["zOrderBy"]) == expected, table
        detail = spark.sql(f"DESCRIBE DETAIL delta.`{path(copy, table)}`").first()
        assert detail["partitionColumns"] == ([EVENT_DATE] if table in EVENT_TABLES else []), table
        assert detail["clusteringColumns"] == [] and observed[table]["clustering_columns"] == "(none)", table
        assert [e["operation"] for e in entries if e["operation"].startswith("VACUUM")] == [
            "VACUUM END",
            "VACUUM START",
        ]
        # Same rows as the untouched shared graph.
        assert differing_rows(read(spark, copy, table), read(spark, graph, table)) == 0, table
        metrics = optimizes[0]["operationMetrics"]
        assert observed[table]["optimize_files_removed"] == int(metrics["numRemovedFiles"]) > 0, table
        assert observed[table]["optimize_files_added"] == int(metrics["numAddedFiles"]) > 0, table
        # Files the graph's own overwrites left behind are younger than 7 days: nothing deleted.
        assert observed[table]["vacuum_files_deleted"] == 0 and observed[table]["retention_hours"] == 168, table

    reported = output_metadata(result)
    assert reported["tables_maintained"] == len(SAMPLE_TABLES) and reported["tables_skipped"] == []
    assert reported["optimize_files_removed"] == sum(o["optimize_files_removed"] for o in observed.values())
    assert all(f"| {table} |" in reported["tables"] for table in SAMPLE_TABLES)
    assert session_confs(spark) == conf_before


def test_vacuum_below_the_default_with_the_override_deletes_the_old_files(spark, graph, copy):
    """campaigns overwritten with its own rows: its first version's files are unreferenced, and
    VACUUM RETAIN 0 HOURS deletes them; the current version still reads the same rows."""
    table = path(copy, "campaigns")
    spark.sql(f"INSERT OVERWRITE delta.`{table}` SELECT * FROM delta.`{table}`")
    conf_before = session_confs(spark)

    result = maintain(copy, tables=["campaigns"], retention_hours=0, allow_retention_below_default=True, zorder=False)
    assert result.success, failure_message(result)

    deleted = observations(result)["campaigns"]["vacuum_files_deleted"]
    assert deleted > 0
    assert output_metadata(result)["vacuum_files_deleted"] == deleted
    end = next(e for e in history(spark, copy, "campaigns") if e["operation"] == "VACUUM END")
    assert int(end["operationMetrics"]["numDeletedFiles"]) == deleted
    # Only the current version's files are left, and it reads the same rows as before.
    on_disk = glob.glob(os.path.join(table, "**", "*.parquet"), recursive=True)
    assert len(on_disk) == spark.sql(f"DESCRIBE DETAIL delta.`{table}`").first()["numFiles"]
    assert differing_rows(read(spark, copy, "campaigns"), read(spark, graph, "campaigns")) == 0
    with pytest.raises(Exception):  # noqa: B017 - Spark raises its own JVM error type for files VACUUM removed
        read(spark, copy, "campaigns", version=0).collect()
    # Delta's retention check (turned off for the statement) is back as it was.
    assert session_confs(spark) == conf_before
    assert spark.conf.get(RETENTION_CHECK_CONF, "true") == "true"


def test_a_retention_below_the_default_without_the_override_is_rejected(spark, copy):
    with pytest.raises(ValidationError, match="retention_hours=24"):
        MaintenanceConfig(retention_hours=24)
    with pytest.raises(ValidationError, match="tables: unknown table"):
        MaintenanceConfig(tables=["households", "housholds"])
    with pytest.raises(ValueError, match="allow_retention_below_default"):
        vacuum(spark, f"delta.`{path(copy, 'campaigns')}`", 1)

    versions_before = {t: len(history(spark, copy, t)) for t in TABLES}
    result = maintain(copy, retention_hours=24)
    assert not result.success
    message = failure_message(result)
    assert "retention_hours=24" in message and "allow_retention_below_default" in message, message
    assert not result.asset_observations_for_node(MAINTENANCE_OP)
    assert {t: len(history(spark, copy, t)) for t in TABLES} == versions_before


def test_tables_that_do_not_exist_yet_are_skipped(tmp_path):
    result = maintain(tmp_path / "empty-warehouse", tables=["households", "campaigns"])
    assert result.success, failure_message(result)
    reported = output_metadata(result)
    assert reported["tables_skipped"] == ["households", "campaigns"] and reported["tables_maintained"] == 0
    assert all(o["maintenance"].startswith("skipped") for o in observations(result).values())


def test_a_failing_table_does_not_stop_the_others_and_fails_the_run(spark, tmp_path):
    """households has an empty _delta_log (not a Delta table): it fails, campaigns is still
    handled (skipped, absent), and the run fails naming households."""
    warehouse = tmp_path / "warehouse"
    os.makedirs(path(warehouse, "households") + "/_delta_log")
    result = maintain(warehouse, tables=["households", "campaigns"])
    assert not result.success
    observed = observations(result)
    assert observed["households"]["maintenance"].startswith("FAILED") and observed["campaigns"][
        "maintenance"
    ].startswith("skipped")
    assert "Maintenance failed on households" in failure_message(result)


class UnverifiedCatalog(CatalogAccess):
    """The databricks target's catalog without its preflight (a workspace API no server answers here)."""

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        pass


def test_unity_catalog_tables_are_optimized_by_their_liquid_clustering_without_zorder(spark):
    """On the databricks target a table has liquid clustering (Delta refuses ZORDER BY on it): OPTIMIZE
    runs without ZORDER BY, even with zorder on, and clusters the files by the table's clustering columns."""
    schema = f"ig_mt_{uuid.uuid4().hex[:8]}"
    location = TableLocation("databricks", catalog="spark_catalog", schema=schema)
    identifier = location.table_identifier("households")
    cluster_by = list(declared_table("households").cluster_by)
    resources = {
        "spark": LazyPySparkResource(spark_config=TEST_SPARK_CONFIG),
        STEP_LAUNCHER: dg.ResourceDefinition.none_resource(),
        "catalog": UnverifiedCatalog(location=location),
    }
    try:
        spark.sql(f"CREATE SCHEMA spark_catalog.{schema}")
        spark.sql(f"CREATE TABLE {identifier} (household_id BIGINT) USING DELTA CLUSTER BY ({', '.join(cluster_by)})")
        for start in (0, 100):  # two small files to compact
            spark.sql(f"INSERT INTO {identifier} SELECT id FROM range({start}, {start + 100}, 1, 1)")
        # VACUUM lists files in Spark's default 10,000 tasks on this target: 2 are plenty here.
        with session_conf(spark, {LISTING_PARALLELISM_CONF: "2"}):
            result = maintenance_job.execute_in_process(
                run_config={"ops": {MAINTENANCE_OP: {"config": {"tables": ["households"], "zorder": True}}}},
                resources=resources,
                raise_on_error=False,
            )
        assert result.success, failure_message(result)
        history = spark.sql(f"DESCRIBE HISTORY {identifier}")
        (optimized,) = history.where(history["operation"] == "OPTIMIZE").collect()
        assert json.loads(optimized["operationParameters"]["zOrderBy"]) == []
        assert json.loads(optimized["operationParameters"]["clusterBy"]) == cluster_by == ["household_id"]
        observed = observations(result)["households"]
        assert observed["zorder_by"] == "(none)" and observed["clustering_columns"] == "household_id"
        assert observed["optimize_files_removed"] == 2 and observed["optimize_files_added"] == 1
        assert "clustering: household_id" in output_metadata(result)["tables"]
        assert spark.table(identifier).count() == 200
    finally:
        spark.sql(f"DROP SCHEMA IF EXISTS spark_catalog.{schema} CASCADE")


def test_zorder_columns_never_include_a_partition_column():
    @dg.asset(metadata={"zorder_columns": ["event_date", "individual_id"], "partition_columns": ["event_date"]})
    def events() -> None: ...

    assert zorder_columns_by_table([events]) == {"events": ["individual_id"]}


def test_the_weekly_schedule_is_off_by_default_and_requests_the_maintenance_job():
    dg.Definitions.validate_loadable(defs)
    schedule = defs.resolve_schedule_def(MAINTENANCE_SCHEDULE)
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert (schedule.cron_schedule, schedule.execution_timezone, schedule.job_name) == (
        "0 3 * * 0",
        "UTC",
        MAINTENANCE_JOB,
    )

    sunday = dt.datetime(2026, 11, 1, 3, 0, tzinfo=dt.UTC)
    data = schedule.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=sunday))
    [request] = data.run_requests
    job = defs.resolve_job_def(MAINTENANCE_JOB)
    assert request.job_name in (None, MAINTENANCE_JOB)
    assert dg.validate_run_config(job, request.run_config)
    assert job.executor_def is dg.in_process_executor
