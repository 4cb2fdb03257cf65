"""End to end through Dagster: the identity assets materialised with the project's own resources."""

import os

import dagster as dg
import pytest
from dagster_pyspark import LazyPySparkResource

from identity_graph.definitions import ALL_ASSETS
from identity_graph.resources.delta_io_manager import DeltaIOManager
from identity_graph.resources.settings import GenerationSettings
from identity_graph_tests.conftest import TEST_SPARK_CONFIG

TABLES = ["households", "individuals", "identity_mappings"]


def project_resources(warehouse) -> dict:
    spark = LazyPySparkResource(spark_config=TEST_SPARK_CONFIG)
    return {
        "spark": spark,
        "generation": GenerationSettings(input_partitions=2),
        "io_manager": DeltaIOManager(spark=spark, warehouse=str(warehouse)),
    }


def versions(spark, warehouse) -> dict[str, int]:
    out = {}
    for table in TABLES:
        path = os.path.join(warehouse, "main", "identity_graph", table)
        out[table] = spark.sql(f"DESCRIBE HISTORY delta.`{path}` LIMIT 1").first()["version"]
    return out


@pytest.fixture(scope="module")
def warehouse(spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("warehouse")
    result = dg.materialize(
        ALL_ASSETS, resources=project_resources(root), run_config={"ops": {"households": {"config": {"num_households": 300}}}}
    )
    assert result.success
    return root, result


def test_materialised_tables_match_the_reported_row_counts(spark, warehouse):
    root, result = warehouse
    for table in TABLES:
        stored = spark.read.format("delta").load(os.path.join(root, "main", "identity_graph", table))
        reported = result.asset_materializations_for_node(table)[0].metadata["dagster/row_count"].value
        assert stored.count() == reported > 0, table
    households = spark.read.format("delta").load(os.path.join(root, "main", "identity_graph", "households"))
    assert households.count() == 300


def test_invalid_config_fails_before_any_table_is_touched(spark, warehouse):
    root, _ = warehouse
    before = versions(spark, root)
    result = dg.materialize(
        ALL_ASSETS,
        resources=project_resources(root),
        run_config={
            "ops": {
                "households": {"config": {"num_households": 50}},
                "identity_mappings": {"config": {"min_per_individual": 9, "max_per_individual": 3}},
            }
        },
        raise_on_error=False,
    )
    assert not result.success
    assert versions(spark, root) == before
    failure = str(result.all_events)
    assert "identity_mappings" in failure and "per_individual_min (9)" in failure


def test_selected_asset_rebuilds_from_stored_upstream(spark, warehouse):
    root, _ = warehouse
    before = versions(spark, root)
    result = dg.materialize(ALL_ASSETS, selection=["identity_mappings"], resources=project_resources(root))
    assert result.success
    after = versions(spark, root)
    assert after["households"] == before["households"] and after["individuals"] == before["individuals"]
    assert after["identity_mappings"] == before["identity_mappings"] + 1
    # Same seed, same stored upstream: the rebuilt table equals the previous version row for row.
    path = os.path.join(root, "main", "identity_graph", "identity_mappings")
    old = spark.read.format("delta").option("versionAsOf", before["identity_mappings"]).load(path)
    new = spark.read.format("delta").load(path)
    assert old.exceptAll(new).count() == 0 and new.exceptAll(old).count() == 0


PROBE = """
import dagster as dg
from pyspark import SparkContext
from identity_graph.definitions import defs, GENERATE_JOB
result = defs.resolve_job_def(GENERATE_JOB).execute_in_process(
    run_config={"ops": {"individuals": {"config": {"age_min": 12}}}},
    instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
assert not result.success
print("JVM_STARTED" if SparkContext._active_spark_context is not None else "JVM_NOT_STARTED")
for event in result.all_events:
    if event.is_step_failure:
        print(event.step_failure_data.error.to_string())
    elif event.is_failure:
        print(event.message)
"""


def test_invalid_run_config_fails_before_the_jvm_starts(tmp_path):
    """A run launched with a bad value (as from the UI) fails at run start, with Spark never started."""
    import subprocess
    import sys

    env = {**os.environ, "IDENTITY_GRAPH_WAREHOUSE": str(tmp_path / "warehouse")}
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "JVM_NOT_STARTED" in done.stdout
    assert "individuals.age_min" in done.stdout + done.stderr and "12" in done.stdout + done.stderr
    assert not (tmp_path / "warehouse").exists()
