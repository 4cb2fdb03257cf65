"""The whole graph through Dagster: integrity, partial re-materialisation, determinism."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster_pyspark import LazyPySparkResource

from identity_graph.definitions import ALL_ASSETS
from identity_graph.resources.delta_io_manager import DeltaIOManager
from identity_graph.resources.settings import GenerationSettings
from identity_graph_tests.conftest import TEST_SPARK_CONFIG
from identity_graph_tests.fingerprint import differing_rows

ROOT = Path(__file__).resolve().parents[1]
TABLES = [
    "households", "individuals", "identity_mappings", "content_engagements", "viewership_patterns",
    "audience_attributes", "campaigns", "campaign_exposures", "response_events", "outcome_metrics",
]
CAMPAIGN_FAMILY = {"campaigns", "campaign_exposures", "response_events", "outcome_metrics"}
END_DATE, DAYS = "2026-10-31", 5
FIRST_DAY = "2026-10-27"
RUN_CONFIG = {
    "ops": {
        "households": {"config": {"num_households": 400}},
        "campaigns": {"config": {"num_campaigns": 6}},
        # Generous response rates so that a graph this small still has conversions to attribute.
        "response_events": {"config": {"base_rate": {"click": 0.10, "conversion": 0.15, "engagement": 0.05, "visit": 0.05}}},
    },
    "resources": {"generation": {"config": {"end_date": END_DATE, "days": DAYS}}},
}
RANGE = {"dagster/asset_partition_range_start": FIRST_DAY, "dagster/asset_partition_range_end": END_DATE}

#: (child table, column, parent table, parent key) for every foreign key in DATA_MODEL.md.
FOREIGN_KEYS = [
    ("individuals", "household_id", "households", "household_id"),
    ("identity_mappings", "individual_id", "individuals", "individual_id"),
    ("content_engagements", "individual_id", "individuals", "individual_id"),
    ("viewership_patterns", "individual_id", "individuals", "individual_id"),
    ("audience_attributes", "individual_id", "individuals", "individual_id"),
    ("campaign_exposures", "campaign_id", "campaigns", "campaign_id"),
    ("campaign_exposures", "individual_id", "individuals", "individual_id"),
    ("response_events", "exposure_id", "campaign_exposures", "exposure_id"),
    ("response_events", "campaign_id", "campaigns", "campaign_id"),
    ("response_events", "individual_id", "individuals", "individual_id"),
    ("outcome_metrics", "response_id", "response_events", "response_id"),
    ("outcome_metrics", "exposure_id", "campaign_exposures", "exposure_id"),
    ("outcome_metrics", "campaign_id", "campaigns", "campaign_id"),
]


def project_resources(warehouse, partitions: int = 2) -> dict:
    spark = LazyPySparkResource(spark_config=TEST_SPARK_CONFIG)
    return {
        "spark": spark,
        "generation": GenerationSettings(input_partitions=partitions),
        "io_manager": DeltaIOManager(spark=spark, warehouse=str(warehouse)),
    }


def path(warehouse, table) -> str:
    return os.path.join(warehouse, "main", "identity_graph", table)


def read(spark, warehouse, table, version=None):
    reader = spark.read.format("delta")
    if version is not None:
        reader = reader.option("versionAsOf", version)
    return reader.load(path(warehouse, table))


def versions(spark, warehouse) -> dict[str, int]:
    return {t: spark.sql(f"DESCRIBE HISTORY delta.`{path(warehouse, t)}` LIMIT 1").first()["version"] for t in TABLES}


def orphans(spark, warehouse) -> dict[str, int]:
    found = {}
    for child, column, parent, key in FOREIGN_KEYS:
        child_df = read(spark, warehouse, child).where(f"{column} IS NOT NULL")
        parent_df = read(spark, warehouse, parent).select(key).withColumnRenamed(key, column)
        found[f"{child}.{column}"] = child_df.join(parent_df, column, "left_anti").count()
    return found


@pytest.fixture(scope="module")
def graph(spark, tmp_path_factory):
    warehouse = tmp_path_factory.mktemp("graph")
    result = dg.materialize(ALL_ASSETS, resources=project_resources(warehouse), run_config=RUN_CONFIG, tags=RANGE)
    assert result.success
    return warehouse


def test_all_ten_tables_are_written_with_zero_orphans(spark, graph):
    for table in TABLES:
        assert read(spark, graph, table).count() > 0, table
    assert orphans(spark, graph) == {f"{c}.{col}": 0 for c, col, _, _ in FOREIGN_KEYS}
    days = {r[0].isoformat() for r in read(spark, graph, "content_engagements").select("event_date").distinct().collect()}
    assert days == {"2026-10-27", "2026-10-28", "2026-10-29", "2026-10-30", "2026-10-31"}


def test_rematerialising_campaigns_and_downstream_leaves_every_other_table_unchanged(spark, graph):
    before = versions(spark, graph)
    selection = dg.AssetSelection.from_string("campaigns*")  # campaigns and everything downstream
    config = {**RUN_CONFIG, "ops": {k: v for k, v in RUN_CONFIG["ops"].items() if k in CAMPAIGN_FAMILY}}
    result = dg.materialize(ALL_ASSETS, selection=selection, resources=project_resources(graph), run_config=config, tags=RANGE)
    assert result.success
    after = versions(spark, graph)
    for table in TABLES:
        if table in CAMPAIGN_FAMILY:
            assert after[table] == before[table] + 1, table
        else:
            assert after[table] == before[table], table
    assert set(orphans(spark, graph).values()) == {0}


def test_invalid_config_fails_before_any_table_is_touched(spark, graph):
    before = versions(spark, graph)
    bad = {**RUN_CONFIG, "ops": {**RUN_CONFIG["ops"], "campaigns": {"config": {"num_campaigns": 0}}}}
    result = dg.materialize(ALL_ASSETS, resources=project_resources(graph), run_config=bad, tags=RANGE, raise_on_error=False)
    assert not result.success
    assert "campaigns.num_campaigns" in str(result.all_events)
    assert versions(spark, graph) == before


def test_rematerialising_one_day_of_engagements_changes_only_that_day(spark, graph):
    before = versions(spark, graph)["content_engagements"]
    busier = {**RUN_CONFIG, "ops": {"content_engagements": {"config": {"mean_events_per_day": 3.0}}}}
    one_day = {"selection": ["content_engagements"], "partition_key": "2026-10-29", "resources": project_resources(graph)}
    assert dg.materialize(ALL_ASSETS, run_config=busier, **one_day).success
    assert versions(spark, graph)["content_engagements"] == before + 1
    old, new = read(spark, graph, "content_engagements", before), read(spark, graph, "content_engagements")
    assert differing_rows(old.where("event_date != '2026-10-29'"), new.where("event_date != '2026-10-29'")) == 0
    assert differing_rows(old.where("event_date = '2026-10-29'"), new.where("event_date = '2026-10-29'")) > 0
    assert new.where("event_date = '2026-10-29'").count() > old.where("event_date = '2026-10-29'").count()

    # Re-running the day with the original config restores it exactly.
    assert dg.materialize(ALL_ASSETS, run_config={**RUN_CONFIG, "ops": {}}, **one_day).success
    assert differing_rows(old, read(spark, graph, "content_engagements")) == 0


def test_cli_in_another_process_with_7_partitions_writes_the_identical_graph(spark, graph, tmp_path):
    """`identity-graph generate` end to end: the whole graph in one Dagster run, recorded in the
    instance, row counts printed for all ten tables — and every table equal, row for row, to the
    in-process run's, though made by another process with 7 input and shuffle partitions instead of 2."""
    config = {**RUN_CONFIG, "resources": {"generation": {"config": {**RUN_CONFIG["resources"]["generation"]["config"], "input_partitions": 7}}}}
    config_file = tmp_path / "run.yaml"
    config_file.write_text(yaml.safe_dump(config))
    warehouse, home = tmp_path / "warehouse", tmp_path / "dagster_home"
    env = {**os.environ, "DAGSTER_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1", "PYTHONHASHSEED": "977"}
    done = subprocess.run(
        [sys.executable, "-m", "identity_graph.cli", "generate", "--config", str(config_file), "--warehouse", str(warehouse),
         "--master", "local[2]", "--spark-conf", "spark.sql.shuffle.partitions=7", "--spark-conf", "spark.ui.enabled=false"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    printed = {line.split()[0]: line.split()[1] for line in done.stdout.splitlines() if len(line.split()) > 1}
    assert printed["households"] == "400"
    for table in TABLES:
        assert table in printed, done.stdout
        assert sum(line.split()[0] == table for line in done.stdout.splitlines() if line.split()) == 1, table
        assert differing_rows(read(spark, warehouse, table), read(spark, graph, table)) == 0, table

    instance = dg.DagsterInstance.from_config(str(home))
    try:
        for table in TABLES:
            assert instance.get_latest_materialization_event(dg.AssetKey(table)) is not None, table
    finally:
        instance.dispose()
