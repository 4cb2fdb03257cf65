"""The databricks target: definitions, the step launcher's resolved config, Unity Catalog
managed-table writes, and failing fast (and without secrets) on a bad workspace.

No workspace runs here. What can run does: the definitions load and compile an execution
plan; the launcher resource is built by Dagster from our config; the IO manager's Unity
Catalog branch writes managed tables by three-level name in the local Spark session
catalog (``spark_catalog``, the same code path); and whole Dagster runs of the databricks
target go against servers on loopback that refuse, hang, or reject the token.
"""

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
import zipfile

import dagster as dg
import pytest
from dagster._core.execution.api import create_execution_plan
from dagster._core.execution.resources_init import get_required_resource_keys_for_step
from dagster._serdes import serialize_value
from dagster_pyspark import LazyPySparkResource
from dagster_pyspark.utils import build_pyspark_zip

from identity_graph.maintenance import MAINTENANCE_JOB
from identity_graph.project import CHECK_JOB, CHECK_TARGET_JOB, GENERATE_JOB, asks_only_the_catalog, build_definitions
from identity_graph.resources.catalog import PREFLIGHT_FAILED, PREFLIGHT_FAILURE_TAG, PREFLIGHT_TAG, CatalogAccess
from identity_graph.resources.databricks import STEP_LAUNCHER, DatabricksSettings, on_databricks_cluster
from identity_graph.resources.delta_io_manager import DeltaIOManager
from identity_graph.resources.location import TableLocation
from identity_graph.resources.spark import session_conf
from identity_graph.resources.targets import TargetSettings
from identity_graph_tests.support.spark import TEST_SPARK_CONFIG
from identity_graph_tests.support.stored_graph import RANGE
from identity_graph_tests.support.unity_catalog import FIXTURES, ME, RecordedUnityCatalog

EXPECTED_TABLES = (
    "households", "individuals", "identity_mappings", "content_engagements", "viewership_patterns",
    "audience_attributes", "campaigns", "campaign_assignments", "campaign_exposures", "response_events", "outcome_metrics",
    "campaign_delivery", "audience_truth", "conversion_truth", "campaign_truth",
    "identity_observations", "identity_truth", "resolution_baseline",
)  # fmt: skip
TOKEN = "dapi-TEST-SECRET-0123456789abcdef"
HOST = "https://dbc-0123.cloud.databricks.com"
CLIENT_SECRET = "oauth-TEST-SECRET-fedcba9876543210"


@pytest.fixture
def databricks_env(monkeypatch):
    """A clean environment with the databricks target selected; returns a setter for more variables."""
    for name in list(os.environ):
        if name.startswith(("DATABRICKS_", "IDENTITY_GRAPH_", "ARM_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("IDENTITY_GRAPH_TARGET", "databricks")
    # Named, so that no workspace is asked for its default catalog (test_databricks_settings does that).
    monkeypatch.setenv("IDENTITY_GRAPH_CATALOG", "main")

    def set_env(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_env


def databricks_definitions() -> dg.Definitions:
    return build_definitions(TargetSettings.from_env())


def generate_job() -> dg.JobDefinition:
    """The generate job as the environment defines it (rebuilt in every step process)."""
    return databricks_definitions().resolve_job_def(GENERATE_JOB)


# --------------------------------------------------------------------------- definitions and plan


def test_definitions_load_under_the_databricks_target(databricks_env):
    databricks_env(DATABRICKS_HOST=HOST, DATABRICKS_TOKEN=TOKEN)
    defs = databricks_definitions()
    dg.Definitions.validate_loadable(defs)
    job = defs.resolve_job_def(GENERATE_JOB)
    assert job.executor_def is dg.multiprocess_executor
    io_manager = defs.resources["io_manager"]
    location = io_manager.catalog.location
    assert (location.target, location.table_identifier("households")) == (
        "databricks",
        "`main`.`identity_graph`.`households`",
    )


def test_asset_kinds_name_databricks_only_on_the_databricks_target(databricks_env):
    """The asset graph and pages show spark and delta everywhere, databricks where the tables are computed there."""
    databricks_env(DATABRICKS_HOST=HOST, DATABRICKS_TOKEN=TOKEN)
    on_databricks = databricks_definitions().resolve_asset_graph()
    local = build_definitions(TargetSettings.from_env({})).resolve_asset_graph()
    for key in on_databricks.get_all_asset_keys():
        assert on_databricks.get(key).kinds == {"spark", "delta", "databricks"}, key
        assert local.get(key).kinds == {"spark", "delta"}, key


def test_every_asset_step_goes_through_the_step_launcher(databricks_env):
    databricks_env(DATABRICKS_HOST=HOST, DATABRICKS_TOKEN=TOKEN)
    defs = databricks_definitions()
    for job_name in (GENERATE_JOB, CHECK_JOB):
        job = defs.resolve_job_def(job_name)
        plan = create_execution_plan(job)
        assets = {key.to_python_identifier() for key in job.asset_layer.asset_graph.get_all_asset_keys()}
        launched = {s.key for s in plan.steps if STEP_LAUNCHER in get_required_resource_keys_for_step(job, s, plan)}
        # One step per table, its checks included, each on the cluster: in a run of checks alone too.
        assert assets == {t.replace("-", "_") for t in EXPECTED_TABLES}
        assert launched == {s.key for s in plan.steps} == assets, launched ^ assets
    # Table maintenance runs its OPTIMIZE and VACUUM statements on the cluster too.
    maintenance = defs.resolve_job_def(MAINTENANCE_JOB)
    plan = create_execution_plan(maintenance)
    assert [STEP_LAUNCHER in get_required_resource_keys_for_step(maintenance, s, plan) for s in plan.steps] == [True]


def test_the_step_launcher_resolves_cluster_package_libraries_and_environment(databricks_env):
    databricks_env(
        DATABRICKS_HOST=HOST,
        DATABRICKS_TOKEN=TOKEN,
        IDENTITY_GRAPH_CATALOG="prod",
        IDENTITY_GRAPH_SCHEMA="synthetic",
        IDENTITY_GRAPH_DATABRICKS_WORKERS="4",
        IDENTITY_GRAPH_DATABRICKS_NODE_TYPE="m5d.2xlarge",
        IDENTITY_GRAPH_DATABRICKS_SECRET_SCOPE="ig-secrets",
    )
    defs = databricks_definitions()
    with dg.build_resources({STEP_LAUNCHER: defs.resources[STEP_LAUNCHER]}) as resources:
        launcher = resources.step_launcher
    assert type(launcher).__name__ == "DatabricksPySparkStepLauncher"
    assert launcher.databricks_host == HOST
    assert launcher.databricks_runner.client.workspace_client.config.token == TOKEN
    assert launcher.run_config["cluster"] == {
        "new": {
            "size": {"num_workers": 4},
            "spark_version": "17.3.x-scala2.13",
            "nodes": {"node_types": {"node_type_id": "m5d.2xlarge"}},
            "data_security_mode": "SINGLE_USER",
            "spark_conf": {},
            "custom_tags": [{"key": "application", "value": "identity_graph"}],
        }
    }
    assert launcher.run_config["libraries"] == [{"pypi": {"package": "faker==40.63.0"}}]
    assert launcher.run_config["install_default_libraries"] is True
    assert launcher.env_variables == {
        "DATABRICKS_HOST": HOST,
        "IDENTITY_GRAPH_TARGET": "databricks",
        "IDENTITY_GRAPH_CATALOG": "prod",
        "IDENTITY_GRAPH_SCHEMA": "synthetic",
    }
    assert launcher.secrets == [{"name": "DATABRICKS_TOKEN", "key": "databricks_token", "scope": "ig-secrets"}]
    assert launcher.staging_prefix == "/dagster_staging/identity_graph"

    # The code the launcher ships: exactly the package, importable from the zip's root.
    archive = os.path.join(launcher.local_dagster_job_package_path, "..", f"code-{uuid.uuid4().hex}.zip")
    build_pyspark_zip(archive, launcher.local_dagster_job_package_path)
    try:
        names = zipfile.ZipFile(archive).namelist()
    finally:
        os.remove(archive)
    assert "identity_graph/definitions.py" in names and "identity_graph/generation/households.py" in names
    assert all(name.startswith("identity_graph/") and name.endswith(".py") for name in names), names


def test_a_run_that_only_asks_the_catalog_launches_nothing(databricks_env):
    """The permission job, and a run selecting permission checks alone, get no step launcher: their
    steps ask the workspace's API from the Dagster host. A run with a data check or a table gets the
    launcher. (The loopback test runs ``check --permissions-only`` and sees no cluster run.)"""
    databricks_env(DATABRICKS_HOST=HOST, DATABRICKS_TOKEN=TOKEN)
    defs = databricks_definitions()
    permission = dg.AssetCheckKey(dg.AssetKey("households"), "target_permissions")
    data = dg.AssetCheckKey(dg.AssetKey("households"), "primary_key_unique")
    runs = {
        "permission job": (dg.DagsterRun(job_name=CHECK_TARGET_JOB), True),
        "permission checks alone": (
            dg.DagsterRun(job_name=GENERATE_JOB, asset_selection=frozenset(), asset_check_selection={permission}),
            True,
        ),
        "with a data check": (
            dg.DagsterRun(job_name=CHECK_JOB, asset_selection=frozenset(), asset_check_selection={permission, data}),
            False,
        ),
        "a table": (dg.DagsterRun(job_name=GENERATE_JOB, asset_selection={dg.AssetKey("households")}), False),
        "the whole job": (dg.DagsterRun(job_name=GENERATE_JOB), False),
    }
    launcher = defs.resources[STEP_LAUNCHER]
    for name, (run, stays) in runs.items():
        assert asks_only_the_catalog(run) is stays, name
        with dg.build_resources({STEP_LAUNCHER: launcher}, dagster_run=run) as built:
            resource = getattr(built, STEP_LAUNCHER)
            assert (resource is None) is stays, (name, resource)


def test_an_existing_cluster_and_autoscaling_are_chosen_from_the_environment():
    env = {"DATABRICKS_HOST": HOST, "DATABRICKS_TOKEN": TOKEN}
    assert DatabricksSettings.from_env(
        {**env, "IDENTITY_GRAPH_DATABRICKS_CLUSTER_ID": "0123-456789-abc"}
    ).cluster() == {"existing": "0123-456789-abc"}
    assert DatabricksSettings.from_env(env).cluster()["new"]["size"] == {
        "autoscale": {"min_workers": 2, "max_workers": 8}
    }
    oauth = DatabricksSettings.from_env(
        {"DATABRICKS_HOST": HOST, "DATABRICKS_CLIENT_ID": "sp", "DATABRICKS_CLIENT_SECRET": "x"}
    )
    assert oauth.credentials() == {
        "oauth_client_id": {"env": "DATABRICKS_CLIENT_ID"},
        "oauth_client_secret": {"env": "DATABRICKS_CLIENT_SECRET"},
    }
    assert [s["name"] for s in oauth.cluster_secrets()] == ["DATABRICKS_CLIENT_ID", "DATABRICKS_CLIENT_SECRET"]


def test_oauth_credentials_reach_the_launcher_from_the_environment(databricks_env):
    databricks_env(DATABRICKS_HOST=HOST, DATABRICKS_CLIENT_ID="sp-client", DATABRICKS_CLIENT_SECRET=CLIENT_SECRET)
    defs = databricks_definitions()
    assert defs.resources["catalog"].databricks_client_secret is not None
    config = defs.resources[STEP_LAUNCHER].config_schema  # the outer configured() schema holds env sources only
    assert CLIENT_SECRET not in repr(config)


@pytest.mark.parametrize(
    ("environ", "fragment"),
    [
        ({}, "needs DATABRICKS_HOST"),
        ({"DATABRICKS_TOKEN": TOKEN}, "needs DATABRICKS_HOST"),
        (
            {"DATABRICKS_HOST": HOST, "DATABRICKS_CONFIG_PROFILE": "dev", "DATABRICKS_CONFIG_FILE": os.devnull},
            "has no profile 'dev'",
        ),
        ({"DATABRICKS_HOST": "dbc-0123.cloud.databricks.com", "DATABRICKS_TOKEN": TOKEN}, "https://"),
        (
            {"DATABRICKS_HOST": HOST, "DATABRICKS_TOKEN": TOKEN, "IDENTITY_GRAPH_DATABRICKS_WORKERS": "8-2"},
            "a range (2-8)",
        ),
        (
            {"DATABRICKS_HOST": HOST, "DATABRICKS_TOKEN": TOKEN, "IDENTITY_GRAPH_DATABRICKS_STAGING": "dbfs:/x"},
            "absolute DBFS",
        ),
        (
            {"DATABRICKS_HOST": HOST, "DATABRICKS_TOKEN": TOKEN, "IDENTITY_GRAPH_DATABRICKS_POLL_SECONDS": "0"},
            "POLL_SECONDS must be > 0",
        ),
        (
            {"DATABRICKS_HOST": HOST, "DATABRICKS_TOKEN": TOKEN, "IDENTITY_GRAPH_DATABRICKS_POLL_SECONDS": "soon"},
            "a number of seconds",
        ),
    ],
)
def test_bad_databricks_settings_are_named(environ, fragment):
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(").replace(")", r"\)")) as raised:
        DatabricksSettings.from_env(environ)
    assert TOKEN not in str(raised.value)


def test_no_secret_in_the_definitions_snapshot(databricks_env):
    from dagster._core.remote_representation.external_data import RepositorySnap

    databricks_env(DATABRICKS_HOST=HOST, DATABRICKS_TOKEN=TOKEN)
    snapshot = serialize_value(RepositorySnap.from_def(databricks_definitions().get_repository_def()))
    assert TOKEN not in snapshot


def test_a_cluster_process_knows_it_is_on_a_cluster():
    assert on_databricks_cluster({"DATABRICKS_RUNTIME_VERSION": "17.3"})
    assert not on_databricks_cluster({})


# --------------------------------------------------------------------------- Unity Catalog managed tables


class UnverifiedCatalog(CatalogAccess):
    """The databricks target's catalog with the preflight left out: privileges are a
    workspace API this test has no server for (test_permissions covers them)."""

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        pass


def managed_tables(session: LazyPySparkResource, schema: str) -> DeltaIOManager:
    """The databricks-target IO manager writing managed tables of Spark's session catalog."""
    return DeltaIOManager(
        spark=session,
        catalog=UnverifiedCatalog(location=TableLocation("databricks", catalog="spark_catalog", schema=schema)),
    )


@dg.asset(metadata={"partition_columns": ["event_date"], "partition_expr": "event_date",
                    "clustering_columns": ["event_date", "id"]},
          partitions_def=dg.DailyPartitionsDefinition(start_date="2026-10-01", end_date="2026-10-04"))  # fmt: skip
def daily(context: dg.AssetExecutionContext, spark: LazyPySparkResource):
    """Ten rows on the partition's day."""
    day = context.partition_key
    # Partition column last: Spark's own session catalog (not Unity Catalog) asserts that
    # order when a stored table is replaced ("Corrupted table metadata detected").
    return spark.spark_session.range(10).selectExpr("id", f"'{context.run_id}' AS run", f"DATE'{day}' AS event_date")


@dg.asset(metadata={"partition_columns": ["event_date"], "partition_expr": "event_date",
                    "clustering_columns": ["event_date", "id"]},
          partitions_def=daily.partitions_def, key="daily")  # fmt: skip
def spill(context: dg.AssetExecutionContext, spark: LazyPySparkResource):
    """daily, written wrong: its rows fall on the day after the partition's."""
    day = dt.date.fromisoformat(context.partition_key) + dt.timedelta(days=1)
    return spark.spark_session.range(10).selectExpr("id", "'spill' AS run", f"DATE'{day}' AS event_date")


#: The table properties the databricks target set before liquid clustering.
AUTO_OPTIMIZE = {"delta.autoOptimize.optimizeWrite": "true", "delta.autoOptimize.autoCompact": "true"}


def layout(spark, table: str) -> tuple[list[str], list[str], dict[str, str]]:
    """A table's partition columns, clustering columns and table properties (``DESCRIBE DETAIL``)."""
    detail = spark.sql(f"DESCRIBE DETAIL {table}").first()
    return list(detail["partitionColumns"]), list(detail["clusteringColumns"]), dict(detail["properties"])


def operations(spark, table: str) -> list[tuple[str, str | None]]:
    """Each commit's operation and the clustering it declared (``clusterBy``), oldest first."""
    history = spark.sql(f"DESCRIBE HISTORY {table}").orderBy("version").collect()
    return [(r.operation, (r.operationParameters or {}).get("clusterBy")) for r in history]


@dg.asset(metadata={"clustering_columns": ["event_date"]})
def summary(daily):
    """One row per stored day."""
    return daily.groupBy("event_date").count()


def test_unity_catalog_branch_writes_managed_tables_by_three_level_name(spark):
    schema = f"ig_uc_{uuid.uuid4().hex[:8]}"
    session = LazyPySparkResource(spark_config=TEST_SPARK_CONFIG)
    io_manager = managed_tables(session, schema)
    resources = {"spark": session, "io_manager": io_manager}
    try:
        assert not spark.catalog.databaseExists(f"spark_catalog.{schema}")
        for day in ("2026-10-01", "2026-10-02"):
            assert dg.materialize([daily], partition_key=day, resources=resources).success
        result = dg.materialize([daily, summary], selection=[summary], resources=resources)
        assert result.success
        name = f"spark_catalog.{schema}"
        # The schema was created; the tables are managed (no path given), created with liquid clustering
        # by their clustering_columns, not partitioned, and without autoOptimize properties.
        assert spark.catalog.databaseExists(name)
        assert layout(spark, f"{name}.daily") == ([], ["event_date", "id"], {})
        assert layout(spark, f"{name}.summary") == ([], ["event_date"], {})
        # The statements sent: the day table created empty with its clustering, then the day written into
        # it; the summary created (and on every full write replaced) with its clustering.
        assert operations(spark, f"{name}.daily") == [
            ("CREATE TABLE AS SELECT", '["event_date","id"]'), ("WRITE", None), ("WRITE", None)
        ]  # fmt: skip
        assert operations(spark, f"{name}.summary") == [("CREATE OR REPLACE TABLE AS SELECT", '["event_date"]')]
        assert {(r.event_date.isoformat(), r["count"]) for r in spark.table(f"{name}.summary").collect()} == {
            ("2026-10-01", 10),
            ("2026-10-02", 10),
        }
        # A re-run of one day replaces that day only.
        before = {r.run for r in spark.table(f"{name}.daily").where("event_date = '2026-10-01'").collect()}
        rerun = dg.materialize([daily], partition_key="2026-10-02", resources=resources)
        rows = spark.table(f"{name}.daily").groupBy("event_date", "run").count().collect()
        assert {(r.event_date.isoformat(), r.run, r["count"]) for r in rows} == {
            ("2026-10-01", before.pop(), 10),
            ("2026-10-02", rerun.run_id, 10),
        }
        metadata = rerun.asset_materializations_for_node("daily")[0].metadata
        assert metadata["dagster/table_name"].value == f"spark_catalog.{schema}.daily"
        assert metadata["clustering_columns"].value == ["event_date", "id"]
        assert layout(spark, f"{name}.daily") == ([], ["event_date", "id"], {})
        # A day write never widens: a row outside the run's day is refused, the table unchanged.
        versions = len(operations(spark, f"{name}.daily"))
        wrong = dg.materialize([spill], partition_key="2026-10-02", resources=resources, raise_on_error=False)
        assert not wrong.success and "DELTA_REPLACE_WHERE_MISMATCH" in str(
            wrong.get_step_failure_events()[0].event_specific_data.error
        )
        assert len(operations(spark, f"{name}.daily")) == versions
        # A full write of a clustered table keeps it clustered.
        assert dg.materialize([daily, summary], selection=[summary], resources=resources).success
        assert layout(spark, f"{name}.summary") == ([], ["event_date"], {})
        assert metadata["dagster/partition_row_count"].value == 10 and metadata["dagster/row_count"].value == 20
        # Reading a table that was never written names it.
        missing = managed_tables(session, schema + "_none")
        failed = dg.materialize([daily, summary], selection=[summary], resources={"spark": session, "io_manager": missing},
                                raise_on_error=False)  # fmt: skip
        assert not failed.success
        assert f"Upstream table spark_catalog.{schema}_none.daily is not stored" in str(
            failed.get_step_failure_events()[0].event_specific_data.error.message
        )
    finally:
        spark.sql(f"DROP SCHEMA IF EXISTS spark_catalog.{schema} CASCADE")


def test_a_table_of_the_earlier_layout_becomes_clustered_with_its_rows_kept(spark):
    """Tables as the databricks target wrote them before liquid clustering (partitioned by day, or not at
    all, with delta.autoOptimize.* properties): a day write rewrites the table once into its clustering,
    keeping the other days' rows, and says so; a full write replaces it clustered."""
    schema = f"ig_up_{uuid.uuid4().hex[:8]}"
    name = f"spark_catalog.{schema}"
    session = LazyPySparkResource(spark_config=TEST_SPARK_CONFIG)
    resources = {"spark": session, "io_manager": managed_tables(session, schema)}
    earlier = {f"spark.databricks.delta.properties.defaults.{k}": "true"
               for k in ("autoOptimize.optimizeWrite", "autoOptimize.autoCompact")}  # fmt: skip
    try:
        spark.sql(f"CREATE SCHEMA {name}")
        day_one = spark.range(10).selectExpr("id", "'earlier' AS run", "DATE'2026-10-01' AS event_date")
        with session_conf(spark, earlier):
            day_one.write.format("delta").partitionBy("event_date").saveAsTable(f"{name}.daily")
            day_one.groupBy("event_date").count().write.format("delta").saveAsTable(f"{name}.summary")
        assert layout(spark, f"{name}.daily") == (["event_date"], [], AUTO_OPTIMIZE)
        assert layout(spark, f"{name}.summary") == ([], [], AUTO_OPTIMIZE)

        instance = dg.DagsterInstance.ephemeral()
        result = dg.materialize([daily], partition_key="2026-10-02", resources=resources, instance=instance)
        assert result.success
        assert layout(spark, f"{name}.daily") == ([], ["event_date", "id"], {})
        assert operations(spark, f"{name}.daily")[-2:] == [
            ("CREATE OR REPLACE TABLE AS SELECT", '["event_date","id"]'), ("WRITE", None)
        ]  # fmt: skip
        rows = spark.table(f"{name}.daily").groupBy("event_date", "run").count().collect()
        assert {(r.event_date.isoformat(), r.run, r["count"]) for r in rows} == {
            ("2026-10-01", "earlier", 10),
            ("2026-10-02", result.run_id, 10),
        }
        logged = [r.user_message for r in instance.all_logs(result.run_id)]
        assert any(
            f"{name}.daily is partitioned by ['event_date'], not clustered by ['event_date', 'id']" in m
            and "rewriting it once with liquid clustering" in m
            for m in logged
        ), logged

        assert dg.materialize([daily, summary], selection=[summary], resources=resources).success
        assert layout(spark, f"{name}.summary") == ([], ["event_date"], {})
        assert {(r.event_date.isoformat(), r["count"]) for r in spark.table(f"{name}.summary").collect()} == {
            ("2026-10-01", 10),
            ("2026-10-02", 10),
        }
    finally:
        spark.sql(f"DROP SCHEMA IF EXISTS {name} CASCADE")


# --------------------------------------------------------------------------- failing fast on a bad workspace


class Unanswering:
    """A TCP server on loopback that accepts connections and never answers."""

    def __init__(self) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(64)
        self.host = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            self._held.append(connection)

    def close(self) -> None:
        self._socket.close()
        for connection in self._held:
            connection.close()


def closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


#: Every way a user starts a run of the databricks target: the command line's three commands, and
#: a run of the generate job as the UI launches it (the job's own multiprocess executor, each step
#: in its own process; ``dagster job execute`` runs it that way, without the command line's preflight).
COMMANDS = {
    "generate": [sys.executable, "-m", "identity_graph.cli", "generate", "--households", "50", "--days", "1"],
    "check": [sys.executable, "-m", "identity_graph.cli", "check"],
    "check --permissions-only": [sys.executable, "-m", "identity_graph.cli", "check", "--permissions-only"],
    "UI run": [
        sys.executable, "-m", "dagster", "job", "execute", "-m", "identity_graph.definitions",
        "-j", GENERATE_JOB, "--tags", json.dumps(RANGE),
    ],
}  # fmt: skip
WORKSPACES = ("refuses connections", "never answers", "rejects the token")
#: How many of the twelve cases run at once.
CONCURRENT = 6


def bad_workspace(kind: str) -> tuple[str, str, object]:
    """A workspace on loopback that fails the way ``kind`` says: its host, the cause an error must
    name, and the server (``None`` for a closed port)."""
    if kind == "refuses connections":
        return closed_port(), "ConnectionError", None
    if kind == "never answers":
        server = Unanswering()
        return server.host, "Timeout", server
    server = RecordedUnityCatalog({ME: "databricks/error_403_invalid_token.json"})
    cause = json.loads((FIXTURES / "databricks/error_403_invalid_token.json").read_text())["body"]["message"]
    return server.host, cause, server


def test_a_bad_workspace_fails_every_command_once_within_a_minute_naming_host_and_cause(databricks_env, tmp_path):
    """Against a workspace that refuses connections, never answers, or rejects the token, each of
    generate, check, check --permissions-only and a UI-launched run fails within 60 s with one
    error naming the host and the cause, asks the workspace once (not once per step), and writes
    nothing. Each case has its own server; several run at once, to keep the suite short."""
    cases = [(w, c) for c in COMMANDS for w in WORKSPACES]  # the UI runs (the slowest) last
    started: dict[tuple[str, str], tuple] = {}
    ended: dict[tuple[str, str], float] = {}
    servers = []
    try:
        deadline, total = time.monotonic() + 300, len(cases)
        while len(ended) < total and time.monotonic() < deadline:
            # At most CONCURRENT at once: each time is a user's wall time, not a machine's queue.
            while cases and len(started) - len(ended) < CONCURRENT:
                workspace, command = key = cases.pop()
                host, cause, server = bad_workspace(workspace)
                servers.append(server)
                home = tmp_path / f"{workspace}-{command}".replace(" ", "_")
                home.mkdir()
                env = {
                    **os.environ,
                    "DATABRICKS_HOST": host,
                    "DATABRICKS_TOKEN": TOKEN,
                    "DAGSTER_HOME": str(home),
                    "IDENTITY_GRAPH_WAREHOUSE": str(home / "unused"),
                    "IDENTITY_GRAPH_DATABRICKS_POLL_SECONDS": "0.5",
                }
                out = open(home / "output.txt", "w")  # noqa: SIM115 - closed after the process ends
                process = subprocess.Popen(COMMANDS[command], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=home)
                started[key] = (process, time.monotonic(), out, host, cause, server, home)
            for key, (process, *_) in started.items():
                if key not in ended and process.poll() is not None:
                    ended[key] = time.monotonic()
            time.sleep(0.1)
        report = []
        for (workspace, command), (process, began, out, host, cause, server, home) in started.items():
            out.close()
            elapsed = ended.get((workspace, command), float("inf")) - began
            output = (home / "output.txt").read_text()
            report.append((workspace, command, elapsed, process.returncode, host, cause, server, home, output))
    finally:
        for process, *_ in started.values():
            if process.poll() is None:
                process.kill()
        for server in servers:
            if server is not None:
                server.close()
    print(f"\nFailing fast on a bad workspace (seconds; {CONCURRENT} commands at a time):")
    for workspace, command, elapsed, code, *_ in report:
        print(f"  {workspace:20} {command:26} {elapsed:5.1f}s  exit {code}")
    for workspace, command, elapsed, code, host, cause, server, home, output in report:
        where = f"{command} against a workspace that {workspace}"
        assert code != 0, f"{where} succeeded:\n{output}"
        assert elapsed < 60, f"{where} took {elapsed:.1f}s to fail"
        assert TOKEN not in output, where
        if isinstance(server, RecordedUnityCatalog):
            # Asked once: the command line's preflight, or the UI run's first step (not one per step).
            assert [r["key"] for r in server.requests] == [ME], f"{where}: {server.requests}"
        if command != "UI run":
            assert code == 2 and host in output and cause in output, f"{where}:\n{output}"
            assert "Traceback" not in output, f"{where}:\n{output}"
            continue
        with dg.DagsterInstance.from_config(str(home)) as instance:
            (run,) = instance.get_runs()
            events = instance.all_logs(run.run_id)
            failures = [e.dagster_event for e in events if e.dagster_event and e.dagster_event.is_step_failure]
            assert failures, f"{where}: no step failed:\n{output}"
            messages = [f.step_failure_data.error.to_string() for f in failures]
            assert all(host in m and cause in m for m in messages), f"{where}: {messages}"
            # One step asked; any other step that started meanwhile reports the recorded outcome.
            assert sum("not asked again" not in m for m in messages) == 1, f"{where}: {messages}"
            assert run.tags[PREFLIGHT_TAG] == PREFLIGHT_FAILED and host in run.tags[PREFLIGHT_FAILURE_TAG]
            assert not any(e.dagster_event and e.dagster_event.is_step_materialization for e in events)
            assert TOKEN not in "\n".join(serialize_value(e) for e in events)
        assert not (home / "unused").exists()


def test_the_dagster_plus_code_location_loads_the_databricks_target(databricks_env):
    """dagster_cloud.yaml's module, imported as a code server would, with the deployment's variables."""
    import subprocess
    import sys
    from pathlib import Path

    import yaml

    root = Path(__file__).resolve().parents[2]
    (location,) = yaml.safe_load((root / "dagster_cloud.yaml").read_text())["locations"]
    module = location["code_source"]["module_name"]
    databricks_env(DATABRICKS_HOST=HOST, DATABRICKS_TOKEN=TOKEN)
    probe = (
        f"import {module} as m, dagster as dg; "
        "job = m.defs.resolve_job_def(m.GENERATE_JOB); "
        "print(job.executor_def is dg.multiprocess_executor, m.defs.resources['catalog'].location.target)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], check=False, cwd=root, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "databricks"]
