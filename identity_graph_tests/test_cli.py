"""`identity-graph generate`: bad input is refused before anything starts (the end-to-end run is in test_graph.py)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "identity_graph.cli"]


def run_cli(args, tmp_path, timeout=600):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "dagster_home"), "SPARK_LOCAL_IP": "127.0.0.1"}
    env.pop("IDENTITY_GRAPH_WAREHOUSE", None)
    return subprocess.run([*CLI, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--households", "0"], ["households.num_households", "got 0"]),
        (["--end-date", "yesterday"], ["generation.end_date", "yesterday"]),
        (["--select", "no_such_asset"], ["--select", "no_such_asset"]),
        (["--remote", "localhost:15002"], ["IDENTITY_GRAPH_SPARK_REMOTE", "sc://host:port", "localhost:15002"]),
    ],
)
def test_invalid_input_exits_2_naming_the_problem_and_writes_nothing(tmp_path, args, fragments):
    warehouse = tmp_path / "warehouse"
    done = run_cli(["generate", "--warehouse", str(warehouse), *args], tmp_path, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    for fragment in fragments:
        assert fragment in done.stderr
    assert not warehouse.exists()


def test_config_file_with_a_bad_weight_is_rejected(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("ops:\n  individuals:\n    config:\n      gender_weights: {Male: 0.7, Female: 0.7}\n")
    done = run_cli(["generate", "--config", str(config), "--warehouse", str(tmp_path / "w")], tmp_path, timeout=120)
    assert done.returncode == 2
    assert "individuals.gender_weights" in done.stderr and "1.4" in done.stderr


@pytest.mark.parametrize("command", [["generate"], ["check"]])
def test_the_databricks_target_without_a_workspace_exits_2_naming_the_variable(tmp_path, monkeypatch, command):
    for name in list(os.environ):
        if name.startswith("DATABRICKS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("IDENTITY_GRAPH_TARGET", "databricks")
    done = run_cli(command, tmp_path, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "IDENTITY_GRAPH_TARGET=databricks needs DATABRICKS_HOST" in done.stderr
