"""A refresh keeps the graph's config: the config each table was generated with is recorded in its
Delta commit, and a run rebuilding part of the graph generates with it, or refuses other config."""

import shutil

import dagster as dg
import pytest

from identity_graph.definitions import ALL_ASSETS
from identity_graph.model import EVENT_TABLES
from identity_graph.model.vocabularies import CHANNELS, NON_CLICKABLE_CHANNELS
from identity_graph.resources.location import TableLocation
from identity_graph.schedules import DAILY_REFRESH_SELECTION
from identity_graph_tests.support.fingerprint import differing_rows, differing_tables
from identity_graph_tests.support.stored_graph import RUN_CONFIG, TABLES, project_resources, read, versions

DAY = "2026-10-29"


@pytest.fixture
def copy(graph, tmp_path):
    """A private copy of the shared graph's warehouse (generated with non-default config)."""
    target = tmp_path / "warehouse"
    shutil.copytree(graph, target)
    return target


def refresh(warehouse, instance, run_config=None, selection=DAILY_REFRESH_SELECTION):
    """The daily refresh's selection (or ``selection``) for DAY, as the schedule launches it (no config unless given)."""
    return dg.materialize(
        ALL_ASSETS,
        selection=selection,
        partition_key=DAY,
        resources=project_resources(warehouse),
        run_config=run_config,
        instance=instance,
        raise_on_error=False,
    )


def test_each_table_records_the_config_it_was_generated_with_in_its_delta_commit(spark, graph):
    location = TableLocation(warehouse=str(graph))
    record = location.recorded(spark, "households")
    assert record["config"]["num_households"] == RUN_CONFIG["ops"]["households"]["config"]["num_households"]
    assert record["generation"] == {"seed": 42, "days": 5, "attribution_window_hours": 168.0, "end_date": "2026-10-31"}
    responses = location.recorded(spark, "response_events")
    asked = RUN_CONFIG["ops"]["response_events"]["config"]["response_rates"]
    assert responses["config"]["response_rates"] == asked
    assert all(location.recorded(spark, table) for table in TABLES)


def test_a_refresh_asking_for_other_config_refuses_unless_told_to_rebuild(spark, graph, graph_instance, copy):
    """Other response rates than the graph's would mix two configs in one table: a run refreshing the
    day's responses fails naming the field, the stored and the asked value, and response_events is
    not written; with generation.rebuild the run generates with the new rates."""
    rates = {c: {"visit": 0.2} if c in NON_CLICKABLE_CHANNELS else {"click": 0.3, "visit": 0.2} for c in CHANNELS}
    other = {"ops": {"response_events": {"config": {"response_rates": rates}}}}
    before = versions(spark, copy, ["response_events"])
    failed = refresh(copy, graph_instance, other, selection=["response_events"])
    assert not failed.success
    (failure,) = [e for e in failed.all_events if e.is_step_failure]
    message = failure.event_specific_data.error.message
    assert "response_events.response_rates: stored" in message and "rebuild: true" in message, message
    assert versions(spark, copy, ["response_events"]) == before

    rebuild = {**other, "resources": {"generation": {"config": {"rebuild": True}}}}
    rebuilt = refresh(copy, graph_instance, rebuild, selection=["response_events"])
    assert rebuilt.success
    day = f"event_date = '{DAY}'"
    new = read(spark, copy, "response_events").where(day)
    assert differing_rows(new, read(spark, graph, "response_events").where(day)) > 0
    assert {r[0] for r in new.select("response_type").distinct().collect()} <= {"click", "visit", "conversion"}


def test_identity_graph_refresh_regenerates_a_day_exactly_as_the_graph_did(spark, graph, copy, tmp_path, monkeypatch):
    """The graph was generated with 400 households, 6 campaigns, generous response rates and a 5-day
    window. ``identity-graph refresh --day`` (in this process, on the session's Spark) runs the daily
    refresh job for one of its days with no config (as the schedule sends): that day is regenerated
    with the graph's config and the window stays where it ends, so the event tables and the
    derived tables come out identical, row for row, nothing upstream moves, and the command
    exits 0 with the refreshed tables' checks passing."""
    from identity_graph import cli

    home = tmp_path / "dagster_home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    before = versions(spark, copy)
    assert cli.main(["refresh", "--day", DAY, "--warehouse", str(copy), "--master", "local[2]"]) == 0
    after = versions(spark, copy)
    assert {t for t in TABLES if after[t] != before[t]} == {
        *EVENT_TABLES,
        "viewership_patterns",
        "audience_attributes",
        "campaign_assignments",
        "outcome_metrics",
        "campaign_truth",
        "campaign_delivery",
    }
    pairs = {t: (read(spark, copy, t), read(spark, graph, t)) for t in after}
    assert differing_tables(pairs) == dict.fromkeys(after, 0)
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        event = instance.get_latest_materialization_event(dg.AssetKey("viewership_patterns"))
        generation = event.asset_materialization.metadata["generation"].value
    finally:
        instance.dispose()
    assert generation["end_date"] == "2026-10-31" and generation["days"] == 5


def test_a_whole_graph_run_over_another_window_replaces_the_event_tables_whole(spark, copy, graph_instance):
    """A run of the whole graph builds a new graph: over a stored 5-day graph, two other days at another
    size leave only those two days in every event table (the older days' exposures would name campaigns
    the new run no longer has, or has over another flight), every exposure inside its campaign's flight,
    and the removed days counted in the write's metadata."""
    days = ["2026-11-01", "2026-11-02"]
    stored_before = {
        table: read(spark, copy, table).where(f"event_date < '{days[0]}'").select("event_date").distinct().count()
        for table in EVENT_TABLES
    }
    result = dg.materialize(
        ALL_ASSETS,
        resources=project_resources(copy),
        run_config={
            "ops": {
                **RUN_CONFIG["ops"],
                "households": {"config": {"num_households": 60}},
                "campaigns": {"config": {"num_campaigns": 2}},
            },
            "resources": {"generation": {"config": {"days": len(days)}}},
        },
        tags={"dagster/asset_partition_range_start": days[0], "dagster/asset_partition_range_end": days[-1]},
        instance=graph_instance,
    )
    assert result.success
    for table in EVENT_TABLES:
        stored = {r[0].isoformat() for r in read(spark, copy, table).select("event_date").distinct().collect()}
        assert stored <= set(days) and (stored or table == "response_events"), (table, stored)
        metadata = result.asset_materializations_for_node(table)[0].metadata
        assert metadata["write_mode"].value == "overwrite", table
        assert metadata["days_removed"].value == stored_before[table] > 0, table
    exposures, campaigns = read(spark, copy, "campaign_exposures"), read(spark, copy, "campaigns")
    outside = exposures.join(campaigns, "campaign_id").where(
        "to_date(exposure_ts) < start_date OR to_date(exposure_ts) > end_date"
    )
    assert outside.count() == 0
    individuals = read(spark, copy, "individuals").select("individual_id")
    assert exposures.join(individuals, "individual_id", "left_anti").count() == 0
