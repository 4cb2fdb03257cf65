"""The `dg` CLI ([tool.dg] in pyproject.toml) finds and loads the code location: `dg check defs`, `dg list defs` (no Spark)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from identity_graph import model

ROOT = Path(__file__).resolve().parents[2]
DG = Path(sys.executable).parent / "dg"

ASSETS = set(model.TABLE_NAMES)
JOBS = {"generate_identity_graph", "check_identity_graph"}


@pytest.fixture(scope="module")
def run_dg(tmp_path_factory):
    home = tmp_path_factory.mktemp("dagster_home")
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "IDENTITY_GRAPH_WAREHOUSE": str(tmp_path_factory.mktemp("warehouse")),
    }

    def run(*args):
        result = subprocess.run(
            [str(DG), *args], check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, (
            f"dg {' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
        )
        return result

    return run


def test_dg_check_defs_loads_the_code_location(run_dg):
    assert "All definitions loaded successfully." in run_dg("check", "defs").stdout


def test_dg_list_defs_lists_the_assets_and_jobs(run_dg):
    listed = json.loads(run_dg("list", "defs", "--json").stdout)
    assert {asset["asset_key"] for asset in listed["assets"]} == ASSETS
    assert {job["name"] for job in listed["jobs"]} >= JOBS
