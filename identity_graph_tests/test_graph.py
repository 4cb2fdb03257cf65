"""The whole graph through Dagster: integrity, partial re-materialisation, determinism."""

import os
import subprocess
import sys

import dagster as dg
import yaml

from identity_graph import cli
from identity_graph.definitions import ALL_ASSETS
from identity_graph_tests.fingerprint import differing_rows
from identity_graph_tests.stored_graph import (
    CAMPAIGN_FAMILY,
    RANGE,
    ROOT,
    RUN_CONFIG,
    TABLES,
    project_resources,
    read,
    versions,
)

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


def orphans(spark, warehouse) -> dict[str, int]:
    found = {}
    for child, column, parent, key in FOREIGN_KEYS:
        child_df = read(spark, warehouse, child).where(f"{column} IS NOT NULL")
        parent_df = read(spark, warehouse, parent).select(key).withColumnRenamed(key, column)
        found[f"{child}.{column}"] = child_df.join(parent_df, column, "left_anti").count()
    return found


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


def test_cli_over_spark_connect_with_7_partitions_writes_the_identical_graph(
    spark, graph, connect_url, tmp_path, monkeypatch, capsys
):
    """`identity-graph generate --remote sc://…` end to end: the whole graph and every check in
    one Dagster run over a Spark Connect server on loopback, recorded in the instance, row counts
    printed for all ten tables — and every table equal, row for row, to the in-process local run's,
    though made by another process, through Spark Connect, with 7 input and shuffle partitions
    instead of 2."""
    config = {**RUN_CONFIG, "resources": {"generation": {"config": {**RUN_CONFIG["resources"]["generation"]["config"], "input_partitions": 7}}}}
    config_file = tmp_path / "run.yaml"
    config_file.write_text(yaml.safe_dump(config))
    warehouse, home = tmp_path / "warehouse", tmp_path / "dagster_home"
    env = {**os.environ, "DAGSTER_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1", "PYTHONHASHSEED": "977"}
    done = subprocess.run(
        [sys.executable, "-m", "identity_graph.cli", "generate", "--config", str(config_file), "--warehouse", str(warehouse),
         "--remote", connect_url, "--spark-conf", "spark.sql.shuffle.partitions=7"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    # Generation ends with every asset check, all passing.
    assert "52 checks: 0 ERROR failed, 0 WARN failed, 0 skipped" in done.stdout, done.stdout[-3000:]
    # The table of tables comes first (header "table  rows  ..."), then the table of checks.
    lines = done.stdout.splitlines()
    first = next(i for i, line in enumerate(lines) if line.split()[:2] == ["table", "rows"]) + 2
    last = next(i for i in range(first, len(lines)) if not lines[i].split() or lines[i].split()[:2] == ["table", "check"])
    table_lines = [line.split() for line in lines[first:last]]
    printed = {cells[0]: cells[1] for cells in table_lines}
    assert printed["households"] == "400"
    for table in TABLES:
        assert table in printed, done.stdout
        assert sum(cells[0] == table for cells in table_lines) == 1, table
        assert differing_rows(read(spark, warehouse, table), read(spark, graph, table)) == 0, table

    instance = dg.DagsterInstance.from_config(str(home))
    try:
        for table in TABLES:
            assert instance.get_latest_materialization_event(dg.AssetKey(table)) is not None, table
    finally:
        instance.dispose()

    # `identity-graph check` against what that process stored, without regenerating (in this
    # process, on the session's Spark). The generate run above already ran every check on the clean
    # tables; here the permission checks alone pass (exit 0) ...
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    versions_before = versions(spark, warehouse)
    check = ["check", "--warehouse", str(warehouse), "--master", "local[2]"]
    assert cli.main([*check, "--permissions-only"]) == 0
    out = capsys.readouterr().out
    assert "10 checks: 0 ERROR failed, 0 WARN failed, 0 skipped" in out, out[-3000:]

    # ... and after a household is duplicated, the key check fails, blocking every check that reads
    # households; nothing is regenerated.
    duplicate = read(spark, warehouse, "households").where("household_id = 1")
    duplicate.write.format("delta").mode("append").save(os.path.join(warehouse, "main", "identity_graph", "households"))
    versions_before["households"] += 1
    assert cli.main(check) == 1
    out = capsys.readouterr().out
    summary = next(line for line in out.splitlines() if line.endswith("(a blocking check on a table they read failed)."))
    assert summary.startswith("52 checks: 2 ERROR failed") and " 0 skipped" not in summary, summary
    assert "households primary_key_unique: households.household_id unique — failed: 2 of 401 rows" in out
    assert versions(spark, warehouse) == versions_before
