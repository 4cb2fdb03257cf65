"""Wall time of the whole graph on the databricks target, every step through dagster-databricks'
step launcher against the tests' loopback workspace (identity_graph_tests/support/loopback_databricks.py).

Usage: python benchmarks/databricks_loopback.py [TABLE ...]   (default: every table and every check)

Starts a Delta-enabled Spark Connect server (the loopback cluster's Spark) and the loopback workspace,
then runs the generate job as the UI does (reconstructable, the multiprocess executor: each step in its
own process, launched to the workspace, which runs dagster-databricks' own step entry point in a new
process). The shared test graph's config and days (identity_graph_tests/support/stored_graph.py).
Prints, as Markdown for BENCHMARKS.md, the run's wall time, the number of cluster runs submitted and
each step's start (seconds after the run's first event) and duration.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from pathlib import Path

TOKEN = "dapi-BENCHMARK-0123456789abcdef"


def main(tables: list[str]) -> None:
    import dagster as dg
    from dagster._core.definitions.reconstruct import ReconstructableRepository

    from identity_graph_tests.support.connect_server import connect_server
    from identity_graph_tests.support.loopback_databricks import LoopbackDatabricks
    from identity_graph_tests.support.stored_graph import RANGE, RUN_CONFIG

    scratch = Path(tempfile.mkdtemp(prefix="identity_graph_loopback_"))
    with connect_server(scratch) as url:
        workspace = LoopbackDatabricks(
            scratch / "workspace", TOKEN, secrets={"identity_graph/databricks_token": TOKEN}, spark_remote=url
        )
        try:
            for name in list(os.environ):
                if name.startswith(("DATABRICKS_", "IDENTITY_GRAPH_")):
                    del os.environ[name]
            os.environ.update(
                DATABRICKS_CONFIG_FILE=os.devnull,
                IDENTITY_GRAPH_TARGET="databricks",
                DATABRICKS_HOST=workspace.host,
                DATABRICKS_TOKEN=TOKEN,
                IDENTITY_GRAPH_CATALOG="spark_catalog",
                IDENTITY_GRAPH_SCHEMA="benchmark",
                IDENTITY_GRAPH_DATABRICKS_POLL_SECONDS="0.5",
            )
            os.chdir(scratch)
            from identity_graph.project import GENERATE_JOB

            recon = ReconstructableRepository.for_module(
                "identity_graph.definitions", "defs", working_directory=os.getcwd()
            ).get_reconstructable_job(GENERATE_JOB)
            (scratch / "home").mkdir()
            with dg.DagsterInstance.local_temp(str(scratch / "home")) as instance:
                selection = [dg.AssetKey(t) for t in tables] or None
                started = time.perf_counter()
                result = dg.execute_job(
                    recon, instance=instance, run_config=RUN_CONFIG, tags=RANGE, asset_selection=selection
                )
                wall = time.perf_counter() - started
                records = instance.all_logs(result.run_id)
        finally:
            workspace.close()
    first = min(r.timestamp for r in records)
    starts: dict[str, float] = {}
    steps = []
    for record in records:
        event = record.dagster_event
        if event is None:
            continue
        if event.event_type_value == "STEP_START":
            starts[event.step_key] = record.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            began = starts[event.step_key]
            steps.append((began - first, record.timestamp - began, event.step_key, event.event_type_value))
    print(f"{platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"\nrun {'succeeded' if result.success else 'FAILED'} in {wall:.1f} s; {len(workspace.runs)} cluster runs\n")
    print("| step | starts at (s) | takes (s) |")
    print("|---|---:|---:|")
    for began, took, key, outcome in sorted(steps):
        print(f"| {key}{'' if outcome == 'STEP_SUCCESS' else ' (failed)'} | {began:.1f} | {took:.1f} |")


if __name__ == "__main__":
    # The multiprocess executor's step processes import this module as __main__'s stand-in: the
    # guard keeps them from starting servers of their own.
    main(sys.argv[1:])
