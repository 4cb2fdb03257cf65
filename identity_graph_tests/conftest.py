"""Shared fixtures: one real local Spark session with Delta for the whole test session, and one small graph.

Tests live in tiers, one folder each, and carry the tier's marker: ``unit/`` (no Spark, no
subprocess beyond a CLI probe; ``make test-unit``), ``integration/`` (Spark and Delta in this
process), ``e2e/`` (the command line in another process, the webserver, the browser, Spark
Connect). A unit test that asks for Spark fails. Helpers live in ``support/``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from identity_graph_tests.support.spark import TEST_SPARK_CONFIG

TIERS = ("unit", "integration", "e2e")
#: Test files that share the Dagster UI session fixtures (one ``dagster dev``, its Connect server
#: and its graph): one pytest-xdist worker runs them together.
UI_FILES = ("e2e/test_browser.py", "e2e/test_webserver.py")


#: Handed out first, in this order (pytest-xdist hands files out in collection order): the UI files,
#: the longest unit; the file that builds the shared graph, which the UI files compare with after
#: their own run; then the other long files, longest first (by their durations in a ``make test``
#: run, --durations=0), so the suite ends on short files instead of one worker running a long one
#: alone. Files not named here follow in collection order.
FIRST = (
    *UI_FILES,
    "integration/test_checks.py",
    "integration/test_lift.py",
    "integration/test_engagement_generation.py",
    "integration/test_refresh.py",
    "integration/test_identity_generation.py",
    "e2e/test_cli.py",
    "integration/test_campaign_generation.py",
    "integration/test_graph.py",
    "integration/test_databricks_target.py",
    "integration/test_resolution.py",
)


def pytest_collection_modifyitems(config, items) -> None:
    """Mark each test with the tier its folder names; put the FIRST files first, in that order."""

    def rank(item) -> int:
        path = item.path.as_posix()
        return next((i for i, name in enumerate(FIRST) if path.endswith(name)), len(FIRST))

    items.sort(key=rank)
    for item in items:
        tier = next((part for part in item.path.relative_to(Path(__file__).parent).parts[:-1] if part in TIERS), None)
        if tier is None:
            raise pytest.UsageError(f"{item.nodeid}: tests live in one of the tier folders {TIERS}")
        item.add_marker(tier)


def pytest_xdist_make_scheduler(config, log):
    """``--dist loadfile`` (what ``make test`` runs), with the UI files as one unit, handed out first.

    Each file goes to one worker, so its module fixtures are built once; the UI files share
    session fixtures too expensive to build on both workers. (xdist's own ``loadgroup``
    cannot group them: it renames node ids through an attribute pytest 9 no longer has.)
    Units go out in collection order (FIRST first), not xdist's default of the units with the
    most tests first: that put the UI unit, the longest (≈ 12 minutes) but with few tests, last,
    so the suite's final minutes ran it alone on one worker.
    """
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    config.option.loadscopereorder = False

    class FilesWithTheUITogether(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "the Dagster UI files" if path.endswith(UI_FILES) else path

    return FilesWithTheUITogether(config, log)


@pytest.fixture(autouse=True)
def _unit_tests_start_no_spark(request) -> None:
    if request.node.get_closest_marker("unit") is not None and "spark" in request.fixturenames:
        raise pytest.UsageError(
            f"{request.node.nodeid} is a unit test: it must not start Spark (move it to integration/)"
        )


@pytest.fixture(scope="session")
def spark() -> SparkSession:
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder
    for key, value in TEST_SPARK_CONFIG.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture
def shuffle_partitions(spark):
    """Set spark.sql.shuffle.partitions for one test, restoring it afterwards."""
    before = spark.conf.get("spark.sql.shuffle.partitions")

    def set_to(n: int) -> None:
        spark.conf.set("spark.sql.shuffle.partitions", str(n))

    yield set_to
    spark.conf.set("spark.sql.shuffle.partitions", before)


@pytest.fixture(scope="session")
def graph_instance():
    """The Dagster instance the shared graph was materialised in: its runs record the config checks compare with."""
    import dagster as dg

    with dg.DagsterInstance.ephemeral() as instance:
        yield instance


@pytest.fixture(scope="session")
def graph(spark, graph_instance, tmp_path_factory):
    """The whole graph, 400 households and 5 event days, materialised through Dagster with each
    table's profile check; its warehouse path. The run carries the tag ``SHARED_GRAPH_TAG``.

    Built once per test run: under pytest-xdist the first worker to ask builds it in the run's
    shared temporary directory while holding a lock, and the other reuses it. Tests never write
    to it (they corrupt or rebuild copies). The run is in the building worker's instance only;
    ``graph_profiles`` gives the other one the profile checks' results.
    """
    import dagster as dg
    from filelock import FileLock

    from identity_graph.checks.asset_checks import PROFILE_CHECK
    from identity_graph.definitions import ALL_ASSETS
    from identity_graph_tests.support.stored_graph import RANGE, RUN_CONFIG, SHARED_GRAPH_TAG, project_resources

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    warehouse, built = shared / "shared_graph", shared / "shared_graph.built"
    with FileLock(shared / "shared_graph.lock"):
        if not built.exists():
            profiles = [key for a in ALL_ASSETS for key in a.check_keys if key.name == PROFILE_CHECK]
            result = dg.materialize(
                ALL_ASSETS,
                selection=dg.AssetSelection.assets(*ALL_ASSETS) | dg.AssetSelection.checks(*profiles),
                resources=project_resources(warehouse),
                run_config=RUN_CONFIG,
                tags={**RANGE, **SHARED_GRAPH_TAG},
                instance=graph_instance,
            )
            assert result.success
            built.touch()
    return warehouse


@pytest.fixture(scope="session")
def graph_profiles(graph, graph_instance):
    """The instance holding a run tagged ``SHARED_GRAPH_TAG`` with the shared graph's profile checks:
    the run that built it, or (when another xdist worker built it) a run of the profile checks alone
    on the stored graph."""
    import dagster as dg

    from identity_graph.checks.asset_checks import PROFILE_CHECK
    from identity_graph.definitions import ALL_ASSETS
    from identity_graph_tests.support.stored_graph import RANGE, SHARED_GRAPH_TAG, project_resources

    if not graph_instance.get_runs(filters=dg.RunsFilter(tags=SHARED_GRAPH_TAG)):
        profiles = [key for a in ALL_ASSETS for key in a.check_keys if key.name == PROFILE_CHECK]
        result = dg.materialize(
            ALL_ASSETS,
            selection=dg.AssetSelection.checks(*profiles),
            resources=project_resources(graph),
            tags={**RANGE, **SHARED_GRAPH_TAG},
            instance=graph_instance,
        )
        assert result.success
    return graph_instance


@pytest.fixture(scope="session")
def connect_url(tmp_path_factory):
    """A Delta-enabled Spark Connect server on loopback for the whole test session: its ``sc://`` URL."""
    from identity_graph_tests.support.connect_server import connect_server

    with connect_server(tmp_path_factory.mktemp("connect_server")) as url:
        yield url


@pytest.fixture(scope="session")
def dagster_ui(tmp_path_factory, connect_url):
    """The project's Dagster UI as ``make dev`` starts it (``dagster dev -w workspace.yaml``, webserver
    and daemon) on a loopback port, with its own ``DAGSTER_HOME`` and warehouse; its runs reach Spark
    through the session's Connect server. Yields a :class:`~identity_graph_tests.webserver.Served`."""
    from identity_graph_tests.support.webserver import Served, dagster_dev

    root = tmp_path_factory.mktemp("dagster_ui")
    home, warehouse = root / "dagster_home", root / "warehouse"
    env = {
        "IDENTITY_GRAPH_WAREHOUSE": str(warehouse),
        "IDENTITY_GRAPH_SPARK_REMOTE": connect_url,
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYTHONHASHSEED": "977",
    }
    with dagster_dev(home, env) as url:
        yield Served(url=url, home=home, warehouse=warehouse)


@pytest.fixture(scope="session")
def ui_graph(dagster_ui):
    """The whole graph and every check, launched through the UI's GraphQL API as one run (the
    shared graph's config, 7 input partitions instead of 2); the :class:`Served` UI it ran in."""
    from identity_graph.project import GENERATE_JOB
    from identity_graph_tests.support.stored_graph import RANGE, RUN_CONFIG

    generation = {**RUN_CONFIG["resources"]["generation"]["config"], "input_partitions": 7}
    config = {**RUN_CONFIG, "resources": {"generation": {"config": generation}}}
    run_id = dagster_ui.client.launch(GENERATE_JOB, run_config=config, tags=RANGE)
    run = dagster_ui.client.wait(run_id)
    assert run["status"] == "SUCCESS", dagster_ui.client.errors(run_id)
    dagster_ui.runs["graph"] = run_id
    return dagster_ui
