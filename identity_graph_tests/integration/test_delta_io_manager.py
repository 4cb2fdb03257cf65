"""The Delta IO manager on real Delta tables: round trip, metadata, atomic overwrite, clear errors, retries."""

import os
from pathlib import Path

import dagster as dg
import pytest
from dagster_pyspark import LazyPySparkResource
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from identity_graph.resources.delta_io_manager import DeltaIOManager
from identity_graph.resources.retry import is_transient, retry_transient
from identity_graph_tests.support.spark import TEST_SPARK_CONFIG
from identity_graph_tests.support.stored_graph import local_catalog

ROWS = 1_000


def resources(warehouse) -> dict:
    spark = LazyPySparkResource(spark_config=TEST_SPARK_CONFIG)
    return {
        "spark": spark,
        "io_manager": DeltaIOManager(spark=spark, catalog=local_catalog(warehouse), backoff_seconds=0.01),
    }


class Behaviour(dg.Config):
    fail_at_id: int = 0


@dg.asset
def numbers(config: Behaviour, spark: LazyPySparkResource) -> DataFrame:
    """Ids 1..ROWS over 4 partitions; optionally a task fails at one id, after others have written files."""
    df = spark.spark_session.range(1, ROWS + 1, 1, 4).withColumn("square", F.col("id") * F.col("id"))
    if config.fail_at_id:
        df = df.withColumn(
            "square",
            F.when(F.col("id") == config.fail_at_id, F.raise_error(F.lit("injected failure"))).otherwise(
                F.col("square")
            ),
        )
    return df


@dg.asset
def doubled(numbers: DataFrame) -> DataFrame:
    """Reads the stored numbers table."""
    return numbers.select("id", (F.col("square") * 2).alias("doubled"))


def delta_version(spark, path: str) -> int:
    return spark.sql(f"DESCRIBE HISTORY delta.`{path}` LIMIT 1").first()["version"]


def test_launchpad_config_for_some_io_manager_fields_keeps_the_code_locations_location(spark, tmp_path, monkeypatch):
    """Run config for some fields of the IO manager or of the catalog resource (as the launchpad sends)
    leaves the warehouse, catalog and schema the code location set: the location is a value bound
    when the Definitions are built, not run config (with plain config defaults, partial run config
    reset it and the table went to ./warehouse)."""
    monkeypatch.chdir(tmp_path)  # where a location reset to the defaults would write
    warehouse = tmp_path / "set_by_the_code_location"
    spark_resource = LazyPySparkResource(spark_config=TEST_SPARK_CONFIG)
    catalog = local_catalog(warehouse, "cat", "sch")
    result = dg.materialize(
        [numbers],
        resources={
            "spark": spark_resource,
            "catalog": catalog,
            "io_manager": DeltaIOManager(spark=spark_resource, catalog=catalog),
        },
        run_config={
            "resources": {
                "io_manager": {"config": {"max_attempts": 2}},
                "catalog": {"config": {"databricks_host": "https://example.invalid"}},
            }
        },
    )
    assert result.success
    assert os.path.isdir(os.path.join(warehouse, "cat", "sch", "numbers", "_delta_log"))
    assert not os.path.exists(tmp_path / "warehouse")
    assert (
        result.asset_materializations_for_node("numbers")[0].metadata["dagster/table_name"].value == "cat.sch.numbers"
    )


def test_round_trip_writes_delta_and_reads_back_with_metadata(spark, tmp_path):
    result = dg.materialize([numbers, doubled], resources=resources(tmp_path))
    assert result.success
    path = os.path.join(tmp_path, "main", "identity_graph", "numbers")
    assert os.path.isdir(os.path.join(path, "_delta_log"))
    stored = spark.read.format("delta").load(path)
    assert stored.count() == ROWS and stored.where("square != id * id").count() == 0
    downstream = spark.read.format("delta").load(os.path.join(tmp_path, "main", "identity_graph", "doubled"))
    assert downstream.where("doubled != 2 * id * id").count() == 0

    metadata = result.asset_materializations_for_node("numbers")[0].metadata
    assert metadata["dagster/table_name"].value == "main.identity_graph.numbers"
    assert metadata["dagster/row_count"].value == ROWS
    assert [c.name for c in metadata["dagster/column_schema"].value.columns] == ["id", "square"]
    assert metadata["dagster/uri"].value == Path(path).as_uri()
    assert metadata["delta_version"].value == 0
    assert metadata["bytes_written"].value > 0 and metadata["files_written"].value >= 1


def test_rematerialising_overwrites_and_bumps_the_delta_version(spark, tmp_path):
    assert dg.materialize([numbers], resources=resources(tmp_path)).success
    result = dg.materialize([numbers], resources=resources(tmp_path))
    path = os.path.join(tmp_path, "main", "identity_graph", "numbers")
    assert result.asset_materializations_for_node("numbers")[0].metadata["delta_version"].value == 1
    assert spark.read.format("delta").load(path).count() == ROWS


def test_interrupted_overwrite_leaves_previous_version_readable(spark, tmp_path):
    assert dg.materialize([numbers], resources=resources(tmp_path)).success
    path = os.path.join(tmp_path, "main", "identity_graph", "numbers")
    before = delta_version(spark, path)

    failed = dg.materialize(
        [numbers],
        resources=resources(tmp_path),
        run_config={"ops": {"numbers": {"config": {"fail_at_id": ROWS - 3}}}},
        raise_on_error=False,
    )
    assert not failed.success
    assert "injected failure" in str(failed.get_step_failure_events()[0].step_failure_data.error)
    assert delta_version(spark, path) == before
    stored = spark.read.format("delta").load(path)
    assert stored.count() == ROWS and stored.where("square != id * id").count() == 0

    assert dg.materialize([numbers], resources=resources(tmp_path)).success
    assert delta_version(spark, path) == before + 1


def test_unwritable_warehouse_fails_with_the_location_named(spark, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the warehouse should be")
    result = dg.materialize([numbers], resources=resources(blocker / "warehouse"), raise_on_error=False)
    assert not result.success
    message = str(result.get_step_failure_events()[0].step_failure_data.error)
    assert "Cannot write to the warehouse location" in message and str(blocker) in message


def test_missing_upstream_table_fails_with_a_clear_message(spark, tmp_path):
    result = dg.materialize(
        [numbers, doubled], selection=[doubled.key], resources=resources(tmp_path), raise_on_error=False
    )
    assert not result.success
    message = str(result.get_step_failure_events()[0].step_failure_data.error)
    assert "main.identity_graph.numbers is not stored" in message and "materialise numbers first" in message


# -- retries (pure Python: the retry policy itself) ------------------------------------------


class Flaky:
    def __init__(self, failures: int, error: Exception):
        self.failures, self.error, self.calls = failures, error, 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "written"


def test_transient_failures_are_retried_with_exponential_backoff():
    sleeps: list[float] = []
    action = Flaky(3, OSError("java.net.SocketTimeoutException: Read timed out"))
    assert retry_transient(action, attempts=4, base_delay=0.5, describe="write t", sleep=sleeps.append) == "written"
    assert action.calls == 4 and sleeps == [0.5, 1.0, 2.0]


def test_retries_stop_after_the_last_attempt():
    action = Flaky(10, OSError("503 Service Unavailable"))
    with pytest.raises(OSError):
        retry_transient(action, attempts=3, base_delay=0, describe="write t", sleep=lambda _s: None)
    assert action.calls == 3


@pytest.mark.parametrize(
    "error",
    [
        ValueError("bad config"),
        PermissionError("Permission denied: /warehouse"),
        RuntimeError("io.delta.exceptions.ConcurrentAppendException: Files were added to the root of the table"),
    ],
)
def test_permanent_failures_and_conflicts_are_not_retried(error):
    action = Flaky(1, error)
    assert not is_transient(error)
    with pytest.raises(type(error)):
        retry_transient(action, attempts=4, base_delay=0, describe="write t", sleep=lambda _s: None)
    assert action.calls == 1


def test_transient_marker_is_found_in_the_cause_chain():
    try:
        try:
            raise ConnectionError("Connection reset by peer")
        except ConnectionError as inner:
            raise RuntimeError("write failed") from inner
    except RuntimeError as outer:
        assert is_transient(outer)
