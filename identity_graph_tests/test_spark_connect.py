"""The whole graph over Spark Connect equals the local run's, row for row; generation has no RDD or Python-UDF path.

The Connect run happens in another process: pyspark refuses a Connect session in a
process that already has a local SparkContext (the shared ``spark`` fixture), and a
Connect session switches pyspark's functions to their Connect versions process-wide.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import dagster as dg
import pytest
from dagster_pyspark import LazyPySparkResource

from identity_graph.resources.catalog import CatalogAccess
from identity_graph.resources.databricks import STEP_LAUNCHER
from identity_graph.resources.delta_io_manager import DeltaIOManager
from identity_graph.resources.settings import GenerationSettings
from identity_graph.resources.spark import remote_spark_config
from identity_graph_tests.conftest import TEST_SPARK_CONFIG
from identity_graph_tests.connect_server import connect_server
from identity_graph_tests.fingerprint import comparable
from identity_graph_tests.stored_graph import RANGE, ROOT, RUN_CONFIG, TABLES, read

GENERATION = ROOT / "identity_graph" / "generation"
#: Session settings of the local test session that a Connect client can set too.
SESSION_SETTINGS = {k: TEST_SPARK_CONFIG[k] for k in ("spark.sql.shuffle.partitions", "spark.sql.adaptive.enabled")}
#: What only an RDD or a Python UDF needs: the SparkContext, RDDs and Python functions run on rows.
FORBIDDEN = re.compile(r"\.rdd\b|sparkContext|SparkContext|\budf\s*\(|@udf\b|pandas_udf|mapInPandas|mapInArrow|applyInPandas|applyInArrow|\.foreach(Partition)?\s*\(")
CONNECT_RUN_TIMEOUT_SECONDS = 900


def connect_resources(warehouse, remote: str, partitions: int = 2) -> dict:
    """The project's resources as :func:`stored_graph.project_resources` builds them, on a Spark Connect client of ``remote``."""
    spark = LazyPySparkResource(spark_config=remote_spark_config(remote, SESSION_SETTINGS))
    return {
        "spark": spark,
        STEP_LAUNCHER: dg.ResourceDefinition.none_resource(),
        "generation": GenerationSettings(input_partitions=partitions),
        "catalog": CatalogAccess(warehouse=str(warehouse)),
        "io_manager": DeltaIOManager(spark=spark, warehouse=str(warehouse)),
    }


def materialize_over_connect(remote: str, warehouse: str) -> bool:
    """Materialise the shared graph's assets (same run config and partition range) over Connect into ``warehouse``."""
    from pyspark.sql.connect.session import SparkSession as ConnectSession

    from identity_graph.definitions import ALL_ASSETS

    try:
        result = dg.materialize(ALL_ASSETS, resources=connect_resources(warehouse, remote), run_config=RUN_CONFIG, tags=RANGE)
        return result.success
    finally:
        # An open Connect session keeps the interpreter from exiting once its server is gone.
        session = ConnectSession.getActiveSession()
        if session is not None:
            session.stop()


@pytest.fixture(scope="session")
def connect_url(tmp_path_factory) -> str:
    """A Delta-enabled Spark Connect server on loopback for the whole test session: its ``sc://`` URL."""
    with connect_server(tmp_path_factory.mktemp("connect_server")) as url:
        yield url


@pytest.fixture(scope="module")
def connect_graph(connect_url, tmp_path_factory) -> Path:
    """The whole graph generated over Spark Connect, in another process; its warehouse path."""
    warehouse = tmp_path_factory.mktemp("connect_graph")
    log = warehouse.parent / f"{warehouse.name}.log"
    with open(log, "w") as out:
        try:
            done = subprocess.run(
                [sys.executable, "-m", "identity_graph_tests.test_spark_connect", connect_url, str(warehouse)],
                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, timeout=CONNECT_RUN_TIMEOUT_SECONDS,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"the Connect run took over {CONNECT_RUN_TIMEOUT_SECONDS}s:\n{log.read_text(errors='replace')[-6000:]}")
    assert done.returncode == 0, log.read_text(errors="replace")[-6000:]
    return warehouse


def rows(frame) -> list[str]:
    """The frame's rows, sorted, as their reprs (MAP columns as sorted entries): equal lists mean equal tables."""
    return sorted(map(repr, comparable(frame).collect()))


def test_the_whole_graph_over_spark_connect_equals_the_local_run(spark, graph, connect_graph):
    for table in TABLES:
        local, remote = read(spark, graph, table), read(spark, connect_graph, table)
        assert remote.schema == local.schema, table
        # The tables are small: collecting both sides is 3-4x faster here than exceptAll both ways.
        local_rows, remote_rows = rows(local), rows(remote)
        only_local, only_remote = Counter(local_rows) - Counter(remote_rows), Counter(remote_rows) - Counter(local_rows)
        assert not only_local and not only_remote, (
            f"{table}: {sum(only_local.values())} row(s) only in the local run, {sum(only_remote.values())} only over Connect, "
            f"e.g. local {list(only_local)[:2]}, Connect {list(only_remote)[:2]}"
        )
        assert local_rows, f"{table} is empty"


def test_generation_has_no_rdd_or_python_udf_path():
    found = [
        f"{source.relative_to(ROOT)}:{number}: {line.strip()}"
        for source in sorted(GENERATION.rglob("*.py"))
        for number, line in enumerate(source.read_text().splitlines(), 1)
        if FORBIDDEN.search(line.split("#", 1)[0])
    ]
    assert not found, "RDD / Python UDF use in generation:\n" + "\n".join(found)


if __name__ == "__main__":
    sys.exit(0 if materialize_over_connect(sys.argv[1], sys.argv[2]) else 1)
