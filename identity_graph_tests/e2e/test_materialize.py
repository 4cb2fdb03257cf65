"""Run-start validation: a bad run config fails before Spark starts (the whole graph end to end is in test_graph.py)."""

import os

PROBE = """
import dagster as dg
from pyspark import SparkContext
from identity_graph.definitions import defs, GENERATE_JOB
result = defs.resolve_job_def(GENERATE_JOB).execute_in_process(
    run_config={"ops": {"individuals": {"config": {"age_min": 12}}}},
    instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
assert not result.success
print("JVM_STARTED" if SparkContext._active_spark_context is not None else "JVM_NOT_STARTED")
for event in result.all_events:
    if event.is_step_failure:
        print(event.step_failure_data.error.to_string())
    elif event.is_failure:
        print(event.message)
"""


def test_invalid_run_config_fails_before_the_jvm_starts(tmp_path):
    """A run launched with a bad value (as from the UI) fails at run start, with Spark never started."""
    import subprocess
    import sys

    env = {**os.environ, "IDENTITY_GRAPH_WAREHOUSE": str(tmp_path / "warehouse")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], check=False, capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "JVM_NOT_STARTED" in done.stdout
    assert "individuals.age_min" in done.stdout + done.stderr and "12" in done.stdout + done.stderr
    assert not (tmp_path / "warehouse").exists()
