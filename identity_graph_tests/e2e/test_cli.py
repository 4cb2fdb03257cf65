"""`identity-graph generate`: bad input and an unwritable target are refused before anything starts;
a run is quiet (progress lines on the terminal, warnings and Spark's output in the log file) unless
``--verbose`` (the end-to-end run of every table is in test_graph.py)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "identity_graph.cli"]


def run_cli(args, tmp_path, timeout=600, local=False):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "dagster_home"), "SPARK_LOCAL_IP": "127.0.0.1"}
    env.pop("IDENTITY_GRAPH_WAREHOUSE", None)
    if local:  # the default local target with its own JVM, whatever the environment says
        for name in [n for n in env if n.startswith(("IDENTITY_GRAPH_", "DATABRICKS_"))]:
            del env[name]
    return subprocess.run(
        [*CLI, *args], check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--households", "0"], ["households.num_households", "got 0"]),
        (["--end-date", "yesterday"], ["--end-date", "yesterday"]),
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


@pytest.mark.parametrize("day", ["1999-01-01", "2999-01-01", "yesterday"])
def test_refresh_of_a_day_without_a_partition_exits_2_naming_the_days(tmp_path, day):
    warehouse = tmp_path / "warehouse"
    done = run_cli(["refresh", "--day", day, "--warehouse", str(warehouse)], tmp_path, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"--day '{day}' is not an event day" in done.stderr and "2025-01-01" in done.stderr
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


def runs_recorded(dagster_home: Path) -> int:
    if not dagster_home.exists():
        return 0
    from dagster import DagsterInstance
    from dagster._core.instance.ref import InstanceRef

    with DagsterInstance.from_ref(InstanceRef.from_dir(str(dagster_home))) as instance:
        return instance.get_runs_count()


def test_a_run_prints_progress_and_sends_warnings_and_spark_output_to_the_log_file(tmp_path):
    warehouse = tmp_path / "warehouse"
    done = run_cli(
        ["generate", "--select", "households", "--households", "50", "--warehouse", str(warehouse)],
        tmp_path,
        local=True,
    )
    terminal = done.stdout + done.stderr
    assert done.returncode == 0, terminal
    # One line as the step starts, one as it ends with the rows it wrote and its seconds.
    assert re.search(r"^\[1/1\] households\s+started$", done.stdout, re.MULTILINE), terminal
    assert re.search(r"^\[1/1\] households\s+50 rows in \d+\.\ds$", done.stdout, re.MULTILINE), terminal
    table_dir = warehouse / "main" / "identity_graph" / "households"
    assert re.search(rf"^households\s+50\s+0\s+{re.escape(str(table_dir))}$", done.stdout, re.MULTILINE), terminal
    assert "checks: 0 ERROR failed" in done.stdout
    for noise in ("warning", "ivy", ":: resolving dependencies", "dagster - info", "dagster - debug", "log4j"):
        assert noise not in terminal.lower(), f"{noise!r} on the terminal:\n{terminal}"
    (log_line,) = [line for line in done.stdout.splitlines() if line.startswith("Logs: ")]
    log = Path(log_line.removeprefix("Logs: "))
    assert log.parent == tmp_path / "dagster_home" / "logs"
    text = log.read_text()
    assert "BetaWarning" in text  # Dagster's, while the Definitions are built
    assert ":: resolving dependencies" in text and "ivy" in text.lower()  # the JVM's, at session start
    assert re.search(r"dagster - INFO - .* - households - ", text)  # Dagster's event log of the step
    assert (table_dir / "_delta_log").is_dir()


def unwritable(tmp_path: Path, case: str) -> tuple[Path, list[str]]:
    """A warehouse the run cannot write, and what the refusal must name."""
    if case == "warehouse under a file":
        # A regular file where a directory of the path should be: no user, root included, can write there.
        blocker = tmp_path / "afile"
        blocker.write_text("not a directory\n")
        warehouse = blocker / "wh"
        return warehouse, [str(warehouse / "main" / "identity_graph"), f"mv -- {blocker} {blocker}.bak", "--warehouse"]
    # A file where one table's directory should be: the other tables' directories could be written.
    warehouse = tmp_path / "warehouse"
    schema = warehouse / "main" / "identity_graph"
    schema.mkdir(parents=True)
    (schema / "individuals").write_text("not a table\n")
    return warehouse, [str(schema / "individuals"), f"mv -- {schema / 'individuals'} {schema / 'individuals'}.bak"]


@pytest.mark.parametrize("case", ["warehouse under a file", "table directory is a file"])
def test_an_unwritable_target_exits_2_with_one_paragraph_before_any_run(tmp_path, case):
    warehouse, fragments = unwritable(tmp_path, case)
    done = run_cli(["generate", "--warehouse", str(warehouse)], tmp_path, timeout=120, local=True)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("identity-graph: "), done.stderr
    paragraph = lines[0]
    assert "missing WRITE" in paragraph and "To fix: " in paragraph and "nothing was generated" in paragraph
    for fragment in fragments:
        assert fragment in paragraph
    assert "Traceback" not in done.stderr and "warning" not in done.stderr.lower()
    # Nothing started: no run in the instance, no table, no log file.
    assert runs_recorded(tmp_path / "dagster_home") == 0
    if case == "table directory is a file":
        assert sorted(p.name for p in (warehouse / "main" / "identity_graph").iterdir()) == ["individuals"]
    assert not (tmp_path / "dagster_home" / "logs").exists()


def test_verbose_prints_the_warnings_to_the_terminal(tmp_path):
    warehouse, fragments = unwritable(tmp_path, "warehouse under a file")
    done = run_cli(["generate", "--verbose", "--warehouse", str(warehouse)], tmp_path, timeout=120, local=True)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "BetaWarning" in done.stderr
    assert fragments[0] in done.stderr.strip().splitlines()[-1]
    assert "Logs: " not in done.stdout
