"""The databricks target run for real: dagster-databricks' step launcher against a loopback
Databricks workspace (support/loopback_databricks.py) that executes each submitted run with
dagster-databricks' own step entry point, in its own process, on Spark through the test
session's Spark Connect server (Delta), writing Unity-Catalog-style managed tables.

Runs go through ``dagster.execute_job`` on a reconstructable job, each step in its own process:
as a run launched from the UI executes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from dagster._core.definitions.reconstruct import ReconstructableRepository
from dagster._serdes import serialize_value

from identity_graph import model
from identity_graph.config import HouseholdsConfig, RunParameters
from identity_graph.generation import generate_households
from identity_graph.project import ALL_ASSETS, GENERATE_JOB
from identity_graph_tests.support.fingerprint import fingerprint
from identity_graph_tests.support.loopback_databricks import LoopbackDatabricks

TOKEN = "dapi-TEST-SECRET-0123456789abcdef"
SCOPE = "identity_graph"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def workspace(tmp_path, connect_url, monkeypatch):
    """A loopback workspace holding the token in its secret scope; the environment names it as the
    databricks target's workspace, with tables in a fresh schema of the Connect server's catalog."""
    server = LoopbackDatabricks(
        tmp_path / "workspace", TOKEN, secrets={f"{SCOPE}/databricks_token": TOKEN}, spark_remote=connect_url
    )
    for name in list(os.environ):
        if name.startswith(("DATABRICKS_", "IDENTITY_GRAPH_", "ARM_")):
            monkeypatch.delenv(name)
    schema = f"ig_lb_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("IDENTITY_GRAPH_TARGET", "databricks")
    monkeypatch.setenv("DATABRICKS_HOST", server.host)
    monkeypatch.setenv("DATABRICKS_TOKEN", TOKEN)
    # The Connect server's session catalog stands in for the Unity Catalog catalog.
    monkeypatch.setenv("IDENTITY_GRAPH_CATALOG", "spark_catalog")
    monkeypatch.setenv("IDENTITY_GRAPH_SCHEMA", schema)
    monkeypatch.setenv("IDENTITY_GRAPH_DATABRICKS_POLL_SECONDS", "0.5")
    # As a code server would, build the Definitions for this environment: not the ones an earlier
    # test of this process imported for the local target.
    monkeypatch.delitem(sys.modules, "identity_graph.definitions", raising=False)
    # The host's working directory holds no copy of the package: the cluster has only what was shipped.
    monkeypatch.chdir(tmp_path)
    server.schema = schema
    try:
        yield server
    finally:
        server.close()
        remote_sql(connect_url, f"DROP SCHEMA IF EXISTS spark_catalog.{schema} CASCADE")


def on_connect_server(url: str, expression: str, argument: str) -> Any:
    """The JSON value of ``expression`` (over ``s``, a session of the Connect server, and ``arg``),
    computed in a separate client process: this process keeps its classic session."""
    probe = (
        "import json, sys; from pyspark.sql import SparkSession; "
        "from identity_graph_tests.support.fingerprint import fingerprints; "
        f"s = SparkSession.builder.remote({url!r}).getOrCreate(); arg = sys.argv[1]; "
        f"print(json.dumps({expression}, default=str))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, argument], capture_output=True, text=True, timeout=120, check=False, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def remote_sql(url: str, statement: str) -> list:
    """Rows of ``statement`` on the Connect server."""
    return on_connect_server(url, "[list(r) for r in s.sql(arg).collect()]", statement)


def remote_layout(url: str, table: str) -> tuple[dict[str, Any], list[list[str]]]:
    """A table's ``DESCRIBE DETAIL`` and each commit's operation with its ``clusterBy``, oldest first, on the Connect server."""
    return on_connect_server(
        url,
        "[s.sql('DESCRIBE DETAIL ' + arg).first().asDict(), [[r.operation, (r.operationParameters or {}).get('clusterBy')]"
        " for r in s.sql('DESCRIBE HISTORY ' + arg).orderBy('version').collect()]]",
        table,
    )


def execute(home: Path, *assets: str, **kwargs: Any) -> tuple[dg.ExecuteJobResult, str]:
    """The generate job for ``assets`` as the UI launches it: reconstructable, each step in its own
    process. The result and the text of every event the instance stored."""
    recon = ReconstructableRepository.for_module(
        "identity_graph.definitions", "defs", working_directory=os.getcwd()
    ).get_reconstructable_job(GENERATE_JOB)
    home.mkdir()
    with dg.DagsterInstance.local_temp(str(home)) as instance:
        result = dg.execute_job(recon, instance=instance, asset_selection=[dg.AssetKey(a) for a in assets], **kwargs)
        events = "\n".join(serialize_value(record) for record in instance.all_logs(result.run_id))
    return result, events


def test_steps_run_remotely_through_the_real_step_launcher(spark, workspace, connect_url, tmp_path):
    """households with its checks — one step — launched by dagster-databricks to the loopback workspace
    and run there by the launcher's own entry point from the shipped package alone; the stored table
    equals a local generation, every check of the table was computed there and passed; the token
    reaches the cluster only through the secret scope, and never a log."""
    result, events = execute(tmp_path / "home", "households")
    assert result.success
    steps = {e.step_key for e in result.all_events if e.is_step_success}
    assert steps == {"households"}
    # One remote run for the table's step, to success by the entry point unzipping the shipped package.
    (run,) = workspace.runs.values()
    assert run.state()["result_state"] == "SUCCESS", run.output()[-3000:]
    seen = run.seen()
    imported = seen["imported_from"]
    assert imported.endswith("identity_graph/__init__.py") and not imported.startswith(str(ROOT)), imported
    # The target's settings arrive as the launcher's environment, the token from the secret scope only.
    assert seen["environment"] == {
        "DATABRICKS_HOST": workspace.host,
        "IDENTITY_GRAPH_TARGET": "databricks",
        "IDENTITY_GRAPH_CATALOG": "spark_catalog",
        "IDENTITY_GRAPH_SCHEMA": workspace.schema,
    }, seen
    assert seen["token_from_scope"], seen
    (task,) = run.request["tasks"]
    assert task["spark_python_task"]["python_file"].endswith("databricks_step_main.py")
    assert "POST /api/2.2/jobs/runs/submit" in workspace.requests
    table = f"spark_catalog.{workspace.schema}.households"
    assert on_connect_server(connect_url, "fingerprints({'t': s.table(arg)})['t']", table) == fingerprint(
        generate_households(spark, HouseholdsConfig(), RunParameters())
    )
    # Every check of the table (its permissions first) was computed in the step, on the cluster.
    checks = {e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data.passed
              for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}  # fmt: skip
    assert set(checks) == {key.name for key in households_checks()} and all(checks.values()), checks
    # The remote step created the table with the model's liquid clustering, in one CREATE OR REPLACE
    # TABLE … CLUSTER BY statement: no Delta partitions, no delta.autoOptimize.* properties.
    detail, statements = remote_layout(connect_url, table)
    assert detail["clusteringColumns"] == list(model.table("households").cluster_by) == ["household_id"], detail
    assert detail["partitionColumns"] == [], detail
    assert not [key for key in detail["properties"] if key.startswith("delta.autoOptimize.")], detail
    assert statements == [["CREATE OR REPLACE TABLE AS SELECT", '["household_id"]']], statements
    assert TOKEN not in events
    assert TOKEN not in run.output()


def households_checks() -> set[dg.AssetCheckKey]:
    """The check keys of the households asset."""
    (asset,) = [a for a in ALL_ASSETS if dg.AssetKey("households") in a.keys]
    return set(asset.check_keys)


def test_a_failing_remote_step_reports_its_error_and_output(workspace, tmp_path):
    """individuals without stored households: the remote step fails; Dagster's failure names the cause,
    and the remote run's stdout and stderr come back to the host's event log."""
    result, events = execute(tmp_path / "home", "individuals")
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    message = failure.step_failure_data.error.to_string()
    assert f"spark_catalog.{workspace.schema}.households is not stored" in message, message
    (run,) = workspace.runs.values()
    # The step failed inside the entry point, which reports it as events and exits cleanly.
    assert run.state()["result_state"] == "SUCCESS"
    assert "Captured stdout for step individuals:" in events and "Captured stderr for step individuals:" in events
    (stderr,) = workspace.dbfs.rglob("individuals/stderr")
    first_line = stderr.read_text().strip().splitlines()[0]
    assert json.dumps(first_line)[1:-1] in events, first_line
    assert TOKEN not in events


def test_the_command_line_runs_every_table_step_through_the_launcher(
    workspace, connect_url, tmp_path, monkeypatch, capsys
):
    """``identity-graph generate`` and ``check`` on the databricks target: the command line runs a
    reconstructable job, so each table's step (its checks included) is launched to the workspace,
    as from the UI; ``check --permissions-only`` asks the workspace from here, launching nothing."""
    from identity_graph import cli

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    assert cli.main(["generate", "--select", "households", "--households", "200"]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "households" in out and "200 rows" in out, out
    assert len(workspace.runs) == 1
    assert remote_sql(connect_url, f"SELECT count(*) FROM spark_catalog.{workspace.schema}.households") == [[200]]
    assert cli.main(["check", "--select", "households"]) == 0, capsys.readouterr().err
    assert len(workspace.runs) == 2
    # Verifying the permissions asks the workspace's API from here: no cluster run.
    assert cli.main(["check", "--permissions-only"]) == 0, capsys.readouterr().err
    assert "target_permissions" in capsys.readouterr().out
    assert len(workspace.runs) == 2
    assert all(run.state()["result_state"] == "SUCCESS" for run in workspace.runs.values())


CLUSTER_TOKEN = "dapi-CONNECT-SECRET-fedcba9876543210"


def test_spark_connect_to_a_cluster_runs_every_step_here_and_never_shows_the_token(workspace, connect_url, tmp_path):
    """Where the step launcher cannot go, ``IDENTITY_GRAPH_SPARK_REMOTE`` names a cluster's Spark
    Connect endpoint, token and cluster id in the URL: ``generate`` and ``check`` run every step in
    their own process on that session (no run submitted, nothing staged), write the table with its
    Unity Catalog layout, and the token appears in no output, log, event or stored run."""
    # "localhost": pyspark sends a token without TLS only to a local server.
    url = f"{connect_url.replace('127.0.0.1', 'localhost')}/;token={CLUSTER_TOKEN};x-databricks-cluster-id=0123-456789-abc"
    home = tmp_path / "dagster_home"
    env = {**os.environ, "IDENTITY_GRAPH_SPARK_REMOTE": url, "DAGSTER_HOME": str(home)}
    outputs = []
    for argv in (["generate", "--select", "households", "--households", "200"], ["check", "--select", "households"]):
        done = subprocess.run(
            [sys.executable, "-m", "identity_graph.cli", *argv],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        outputs.append(done.stdout + done.stderr)
    assert "200" in outputs[0] and "households" in outputs[0], outputs[0]
    assert not workspace.runs and not any(workspace.dbfs.rglob("*.zip"))
    table = f"spark_catalog.{workspace.schema}.households"
    detail, _ = remote_layout(connect_url, table)
    assert detail["clusteringColumns"] == list(model.table("households").cluster_by), detail
    assert remote_sql(connect_url, f"SELECT count(*) FROM {table}") == [[200]]
    stored = [path for path in home.rglob("*") if path.is_file()]
    assert stored, "the runs left nothing in DAGSTER_HOME"
    for text in (*outputs, *(path.read_bytes().decode("utf-8", "replace") for path in stored)):
        assert CLUSTER_TOKEN not in text


def test_interrupting_a_run_cancels_its_remote_run(workspace, connect_url, tmp_path):
    """Ctrl-C on ``identity-graph generate`` while a step runs on the cluster (SIGINT to the
    command's process group, as a terminal sends it): the step launcher cancels the Databricks
    run, whose process is killed, and the command fails without writing the table."""
    workspace.hold_runs = True
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "dagster_home")}
    command = subprocess.Popen(
        [sys.executable, "-m", "identity_graph.cli", "generate", "--select", "households", "--households", "200"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while not any(run.running for run in workspace.runs.values()) and command.poll() is None:
            assert time.monotonic() < deadline, "no remote run started"
            time.sleep(0.1)
        assert command.poll() is None, command.communicate()[0][-3000:]
        (run,) = workspace.runs.values()
        os.killpg(command.pid, signal.SIGINT)
        output, _ = command.communicate(timeout=120)
    finally:
        if command.poll() is None:
            os.killpg(command.pid, signal.SIGKILL)
    assert command.returncode != 0, output[-3000:]
    assert run.cancelled and not run.running, output[-3000:]
    assert run.state()["result_state"] == "CANCELED"
    assert len(workspace.runs) == 1
    assert not on_connect_server(
        connect_url, "s.catalog.tableExists(arg)", f"spark_catalog.{workspace.schema}.households"
    )
