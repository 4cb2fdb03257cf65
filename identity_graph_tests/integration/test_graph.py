"""The whole graph through Dagster: integrity, one day re-materialised, bad config, the command line
(`campaigns*` re-materialised and the whole graph from another process: test_webserver.py)."""

import os

import dagster as dg

from identity_graph import cli, model
from identity_graph.definitions import ALL_ASSETS
from identity_graph_tests.support.fingerprint import differing_rows
from identity_graph_tests.support.stored_graph import (
    RANGE,
    RUN_CONFIG,
    TABLES,
    project_resources,
    read,
    versions,
)

#: (child table, column, parent table, parent key) for every foreign key of the model.
FOREIGN_KEYS = [(child.name, fk.column, fk.table, fk.parent_column) for child, fk in model.FOREIGN_KEYS]


def orphans(spark, warehouse) -> dict[str, int]:
    found = {}
    for child, column, parent, key in FOREIGN_KEYS:
        child_df = read(spark, warehouse, child).where(f"{column} IS NOT NULL")
        parent_df = read(spark, warehouse, parent).select(key).withColumnRenamed(key, column)
        found[f"{child}.{column}"] = child_df.join(parent_df, column, "left_anti").count()
    return found


def test_every_table_is_written_with_zero_orphans(spark, graph):
    for table in TABLES:
        assert read(spark, graph, table).count() > 0, table
    assert orphans(spark, graph) == {f"{c}.{col}": 0 for c, col, _, _ in FOREIGN_KEYS}
    days = {
        r[0].isoformat() for r in read(spark, graph, "content_engagements").select("event_date").distinct().collect()
    }
    assert days == {"2026-10-27", "2026-10-28", "2026-10-29", "2026-10-30", "2026-10-31"}


def test_invalid_config_fails_before_any_table_is_touched(spark, graph):
    before = versions(spark, graph)
    bad = {**RUN_CONFIG, "ops": {**RUN_CONFIG["ops"], "campaigns": {"config": {"num_campaigns": 0}}}}
    result = dg.materialize(
        ALL_ASSETS, resources=project_resources(graph), run_config=bad, tags=RANGE, raise_on_error=False
    )
    assert not result.success
    assert "campaigns.num_campaigns" in str(result.all_events)
    assert versions(spark, graph) == before


def test_rematerialising_one_day_of_engagements_changes_only_that_day(spark, graph):
    before = versions(spark, graph)["content_engagements"]
    busier = {**RUN_CONFIG, "ops": {"content_engagements": {"config": {"mean_events_per_day": 3.0}}}}
    one_day = {
        "selection": ["content_engagements"],
        "partition_key": "2026-10-29",
        "resources": project_resources(graph),
    }
    # Other config than the stored table's: refused (it would mix two configs), nothing written...
    refused = dg.materialize(ALL_ASSETS, run_config=busier, raise_on_error=False, **one_day)
    assert not refused.success and versions(spark, graph)["content_engagements"] == before
    # ...unless the run says it rebuilds with it.
    rebuild = {
        "resources": {"generation": {"config": {**RUN_CONFIG["resources"]["generation"]["config"], "rebuild": True}}}
    }
    assert dg.materialize(ALL_ASSETS, run_config={**busier, **rebuild}, **one_day).success
    assert versions(spark, graph)["content_engagements"] == before + 1
    old, new = read(spark, graph, "content_engagements", before), read(spark, graph, "content_engagements")
    assert differing_rows(old.where("event_date != '2026-10-29'"), new.where("event_date != '2026-10-29'")) == 0
    assert differing_rows(old.where("event_date = '2026-10-29'"), new.where("event_date = '2026-10-29'")) > 0
    assert new.where("event_date = '2026-10-29'").count() > old.where("event_date = '2026-10-29'").count()

    # Re-running the day with the original config (the defaults, as a rebuild) restores it exactly.
    assert dg.materialize(ALL_ASSETS, run_config={"ops": {}, **rebuild}, **one_day).success
    assert differing_rows(old, read(spark, graph, "content_engagements")) == 0


def test_cli_generates_and_checks_a_selection_and_a_duplicate_key_fails_the_check(spark, tmp_path, monkeypatch, capsys):
    """`identity-graph generate --select households`, then `identity-graph check` on what it stored
    (on the session's Spark; the whole graph from another process is test_webserver.py's): the
    table and its checks are printed and recorded in the instance; the permission checks alone
    pass; after a household is duplicated, `check --select households` exits 1 naming the failing
    key and the rows, and regenerates nothing."""
    home, warehouse = tmp_path / "dagster_home", tmp_path / "warehouse"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    target = ["--warehouse", str(warehouse), "--master", "local[2]"]
    assert cli.main(["generate", "--select", "households", "--households", "400", *target]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["table", "rows"])
    assert lines[header + 2].split()[:3] == ["households", "400", "0"], out
    assert lines[header + 3].split()[:2] == ["table", "check"] or not lines[header + 3].strip(), out
    summary = next(line for line in lines if " checks: " in line)
    assert summary.endswith(
        "checks: 0 ERROR failed, 0 WARN failed, 0 skipped (a blocking check on a table upstream failed)."
    ), out
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        assert instance.get_latest_materialization_event(dg.AssetKey("households")) is not None
        assert instance.get_latest_materialization_event(dg.AssetKey("individuals")) is None
    finally:
        instance.dispose()

    assert cli.main(["check", "--permissions-only", *target]) == 0
    assert f"{len(model.TABLES)} checks: 0 ERROR failed, 0 WARN failed, 0 skipped" in capsys.readouterr().out
    assert cli.main(["check", "--select", "households", *target]) == 0
    checks_of_households = capsys.readouterr().out
    assert (
        summary.split()[0] == next(line for line in checks_of_households.splitlines() if " checks: " in line).split()[0]
    )

    households = os.path.join(warehouse, "main", "identity_graph", "households")
    spark.read.format("delta").load(households).where("household_id = 1").write.format("delta").mode("append").save(
        households
    )
    versions_before = versions(spark, warehouse, ["households"])
    assert cli.main(["check", "--select", "households", *target]) == 1
    out = capsys.readouterr().out
    assert "households primary_key_unique: households.household_id unique — failed: 2 of 401 rows" in out, out
    assert versions(spark, warehouse, ["households"]) == versions_before
    assert not os.path.exists(os.path.join(warehouse, "main", "identity_graph", "individuals"))
