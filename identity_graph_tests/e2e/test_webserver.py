"""The graph as users drive it: runs launched through the Dagster webserver's GraphQL API (what the
UI's Materialize, launchpad and "Test schedule" buttons send) to ``dagster dev`` on the project's
workspace, each run in its own process, Spark through a Connect server."""

import datetime as dt

import pytest
import yaml

from identity_graph.checks.asset_checks import PERMISSIONS_CHECK, PRIMARY_KEY_CHECK
from identity_graph.schedules import DAILY_REFRESH_JOB, DAILY_REFRESH_SCHEDULE
from identity_graph_tests.support.fingerprint import differing_tables
from identity_graph_tests.support.stored_graph import CAMPAIGN_FAMILY, RANGE, RUN_CONFIG, TABLES, read, versions
from identity_graph_tests.support.webserver import LOCATION, REPOSITORY, GraphQLError

ASSET_GRAPH = """
{ assetNodes {
    assetKey { path }
    groupName
    dependedByKeys { path }
    assetChecksOrError { ... on AssetChecks { checks { name executionForLatestMaterialization { status } } } }
    assetMaterializations(limit: 1) { runId metadataEntries { label } }
} }
"""

SCHEDULES = """
{ repositoriesOrError { ... on RepositoryConnection { nodes { name schedules {
    name cronSchedule executionTimezone pipelineName scheduleState { status }
} } } } }
"""

SCHEDULE_DRY_RUN = """
mutation TestSchedule($selectorData: ScheduleSelector!, $timestamp: Float) {
  scheduleDryRun(selectorData: $selectorData, timestamp: $timestamp) {
    __typename
    ... on DryRunInstigationTick { evaluationResult {
        runRequests { runKey jobName runConfigYaml tags { key value } }
        skipReason
        error { message }
    } }
    ... on PythonError { message }
  }
}
"""


def asset_nodes(client) -> dict[str, dict]:
    return {node["assetKey"]["path"][-1]: node for node in client.query(ASSET_GRAPH)["assetNodes"]}


def downstream_of(nodes: dict[str, dict], root: str) -> set[str]:
    """``root`` and everything downstream of it in the UI's asset graph (the selection ``root*``)."""
    found, frontier = {root}, [root]
    while frontier:
        for child in nodes[frontier.pop()]["dependedByKeys"]:
            if child["path"][-1] not in found:
                found.add(child["path"][-1])
                frontier.append(child["path"][-1])
    return found


def check_statuses(node: dict) -> dict[str, str | None]:
    execution = {c["name"]: c["executionForLatestMaterialization"] for c in node["assetChecksOrError"]["checks"]}
    return {name: (e or {}).get("status") for name, e in execution.items()}


def test_whole_graph_launched_through_the_ui_equals_the_in_process_run(spark, graph, ui_graph):
    """One run of the ``generate_identity_graph`` job from the UI's API, in its own process, over
    Spark Connect, with 7 input partitions instead of 2: every table, each identical row for row
    to the in-process run's; every check of every asset passed; every latest materialisation is
    that run's and carries its row count and Delta version (each table's profile is a check that passed)."""
    pairs = {t: (read(spark, ui_graph.warehouse, t), read(spark, graph, t)) for t in TABLES}
    assert differing_tables(pairs) == dict.fromkeys(TABLES, 0)

    nodes = asset_nodes(ui_graph.client)
    assert set(nodes) == set(TABLES)
    checks = {(table, name): status for table, node in nodes.items() for name, status in check_statuses(node).items()}
    assert len(checks) == 119
    assert {key for key, status in checks.items() if status != "SUCCEEDED"} == set()
    for table, node in nodes.items():
        (latest,) = node["assetMaterializations"]
        assert latest["runId"] == ui_graph.runs["graph"], table
        assert {"dagster/row_count", "delta_version"} <= {e["label"] for e in latest["metadataEntries"]}, table


def test_campaigns_and_downstream_from_the_ui_leave_every_upstream_delta_version_unchanged(spark, graph, ui_graph):
    """Selecting ``campaigns*`` in the asset graph and materialising it with checks rewrites the four
    campaign tables only — households through audience_attributes are read from storage, their
    Delta versions unchanged — and rewrites them identically. The run takes each selected table's
    permission and key checks (every check already ran from the UI in the whole-graph run): only
    steps of those four tables run."""
    client = ui_graph.client
    nodes = asset_nodes(client)
    selected = downstream_of(nodes, "campaigns")
    assert selected == CAMPAIGN_FAMILY
    taken = {PERMISSIONS_CHECK, PRIMARY_KEY_CHECK}
    checks = [(t, name) for t in sorted(selected) for name in check_statuses(nodes[t]) if name in taken]
    assert len(checks) == 2 * len(selected)
    before = versions(spark, ui_graph.warehouse)
    config = {
        "ops": {k: v for k, v in RUN_CONFIG["ops"].items() if k in selected},
        "resources": {
            "generation": {"config": {**RUN_CONFIG["resources"]["generation"]["config"], "input_partitions": 7}}
        },
    }
    run_id = client.launch("__ASSET_JOB", run_config=config, assets=sorted(selected), checks=checks, tags=RANGE)
    run = client.wait(run_id)
    assert run["status"] == "SUCCESS", client.errors(run_id)
    for step in run["stepKeysToExecute"]:  # the four assets, and check steps of those four tables only
        assert any(step == t or step.startswith(f"{t}_") for t in selected), step

    after = versions(spark, ui_graph.warehouse)
    assert {t for t in TABLES if after[t] != before[t]} == selected
    assert all(after[t] == before[t] + 1 for t in selected)
    pairs = {t: (read(spark, ui_graph.warehouse, t), read(spark, graph, t)) for t in selected}
    assert differing_tables(pairs) == dict.fromkeys(selected, 0)
    statuses = {(t, name): status for t in selected for name, status in check_statuses(asset_nodes(client)[t]).items()}
    assert {statuses[key] for key in checks} == {"SUCCEEDED"}


def test_both_schedules_show_in_the_ui_and_are_off_until_turned_on(ui_graph):
    """The daily event refresh and the weekly table maintenance are listed with their cron, in UTC, stopped."""
    (repository,) = ui_graph.client.query(SCHEDULES)["repositoriesOrError"]["nodes"]
    schedules = {s["name"]: s for s in repository["schedules"]}
    assert set(schedules) == {DAILY_REFRESH_SCHEDULE, "weekly_table_maintenance"}
    assert {s["scheduleState"]["status"] for s in schedules.values()} == {"STOPPED"}
    assert {s["executionTimezone"] for s in schedules.values()} == {"UTC"}
    assert schedules[DAILY_REFRESH_SCHEDULE]["cronSchedule"] == "0 0 * * *"
    assert schedules[DAILY_REFRESH_SCHEDULE]["pipelineName"] == DAILY_REFRESH_JOB


def test_daily_refresh_tested_from_the_ui_asks_for_the_newest_day_with_no_config(ui_graph):
    """ "Test schedule" for the tick at 2026-11-01 00:00 UTC asks for day 2026-10-31 (its run key is
    the day) with no config, so each table keeps the config the graph was generated with (400
    households, 6 campaigns, generous response rates, 5-day window), recorded with the tables.

    What that run request does when launched is test_refresh.py's: ``identity-graph refresh --day``
    launches the same job with the same partition tag and no config, and the day comes out identical
    to the graph's own with nothing upstream rewritten. Runs launched through this UI are the
    whole-graph and ``campaigns*`` tests' above."""
    client = ui_graph.client
    selector = {
        "repositoryLocationName": LOCATION,
        "repositoryName": REPOSITORY,
        "scheduleName": DAILY_REFRESH_SCHEDULE,
    }
    tick = dt.datetime(2026, 11, 1, tzinfo=dt.UTC).timestamp()
    evaluation = client.query(SCHEDULE_DRY_RUN, {"selectorData": selector, "timestamp": tick})["scheduleDryRun"][
        "evaluationResult"
    ]
    assert evaluation["error"] is None and evaluation["skipReason"] is None, evaluation
    (request,) = evaluation["runRequests"]
    tags = {t["key"]: t["value"] for t in request["tags"]}
    assert request["runKey"] == "2026-10-31"
    assert tags["dagster/partition"] == "2026-10-31"
    # A schedule's run request names no job, or its own: it runs the schedule's job.
    assert request["jobName"] in (None, DAILY_REFRESH_JOB)
    assert (yaml.safe_load(request["runConfigYaml"]) or {}) == {}


def test_bad_values_from_the_launchpad_come_back_naming_the_field_and_write_nothing(spark, dagster_ui):
    """A value of the wrong type is refused at launch by Dagster's config check, naming its path;
    a value of the right type out of its bounds fails the run as its first step sets up, before any
    table is written, with the field and the value in the run's errors; so does a launchpad run of
    an event table without a day, saying how to pick the days."""
    client = dagster_ui.client
    households = dagster_ui.warehouse / "main" / "identity_graph" / "households"
    before = versions(spark, dagster_ui.warehouse, ["households"]) if households.exists() else None

    with pytest.raises(GraphQLError, match="RunConfigValidationInvalid") as refused:
        client.launch(
            "__ASSET_JOB",
            run_config={"ops": {"households": {"config": {"num_households": "many"}}}},
            assets=["households"],
            checks=[],
        )
    assert "num_households" in str(refused.value)

    run_id = client.launch(
        "__ASSET_JOB",
        run_config={"ops": {"households": {"config": {"num_households": 0}}}},
        assets=["households"],
        checks=[],
    )
    assert client.wait(run_id)["status"] == "FAILURE"
    errors = client.errors(run_id)
    assert "households.num_households" in errors and "got 0" in errors, errors
    assert (versions(spark, dagster_ui.warehouse, ["households"]) if households.exists() else None) == before

    run_id = client.launch("__ASSET_JOB", run_config={}, assets=["content_engagements"], checks=[])
    assert client.wait(run_id)["status"] == "FAILURE"
    errors = client.errors(run_id)
    assert "content_engagements is partitioned by event day and this run names no day" in errors, errors
