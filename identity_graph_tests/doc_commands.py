"""Run every shell command line of README.md and docs/*.md, in document order, as a user would.

    .venv/bin/python -m identity_graph_tests.doc_commands [--list] [--keep] [--keep-going]

(``make doc-commands``; ``.ci/run`` calls it after ``make test``.) The documents are read in
reading order — README.md, then docs/*.md alphabetically; docs/data-model.md is generated
and has no commands — and each command line of their shell code blocks runs with
``bash -c``. A line that only assigns variables (``SPARK_HOME=$(…)``) runs in one bash
session with the next line of its code block. A command that appears a second time (the
same words, comments aside) is not run again. ``--list`` prints the plan and runs nothing;
``--keep`` keeps the temporary directory; ``--keep-going`` goes on after a failure (to see
every failure at once; the exit code is still 1).

The commands see a fresh temporary directory ``<tmp>``:

- ``identity-graph …`` runs with ``<tmp>`` as its working directory; a command that names
  project files (``make``, ``dg``, ``dagster … -w workspace.yaml``, ``.venv/…``) runs from
  the project root. ``.venv/bin`` is first on ``PATH``.
- ``IDENTITY_GRAPH_WAREHOUSE=<tmp>/warehouse`` and ``DAGSTER_HOME=<tmp>/dagster_home`` (its
  ``dagster.yaml`` turns telemetry off, as the Makefile's does); the Makefile takes both
  from the environment (``?=``). ``DAGSTER_DISABLE_TELEMETRY=1``: without it ``dagster dev``
  and ``dg dev`` would upload (and delete) the run logs in ``$DAGSTER_HOME/logs``. Inherited
  ``IDENTITY_GRAPH_*``, ``DATABRICKS_*`` and ``SPARK_REMOTE`` settings are dropped.
- The documented example paths ``/data/warehouse`` and ``/tmp/warehouse`` are replaced by
  ``<tmp>/data/warehouse`` and ``<tmp>/tmp/warehouse``.
- ``<tmp>/run.yaml`` is the README's example run config: the ``yaml`` block just before its
  ``identity-graph generate --config run.yaml`` line.
- ``IDENTITY_GRAPH_TARGET=databricks …`` runs against a loopback Unity Catalog that replays
  the recorded answers of ``identity_graph_tests/fixtures/unity_catalog`` (the
  ``RecordedUnityCatalog`` of ``support/unity_catalog.py``): ``DATABRICKS_HOST`` points at
  it, ``DATABRICKS_TOKEN`` is the fixtures' fake token, and the catalog and schema are the
  defaults (the workspace's default catalog, which the recordings say is ``main``, and
  ``identity_graph``), which the recordings answer for: the caller
  ``someone@example.com`` holds USE CATALOG, USE SCHEMA and CREATE TABLE, households and
  individuals exist with MODIFY and SELECT, the other tables do not exist yet. A request
  the recordings cannot answer fails the command.

Servers — ``make dev``, ``dg dev``, ``dagster dev …`` (the Dagster UI) and the
``spark-submit … SparkConnectServer`` line — start in their own process group; the runner
waits until they answer (``GET http://127.0.0.1:3000/server_info`` returns 200 and the UI's
code location has loaded; port 15002 accepts a connection), then stops them by killing the
group (SIGINT, as Ctrl-C would, then SIGTERM, then SIGKILL for whatever is left of its
session). The Spark Connect server is
started when the runner reaches its document and stopped after that document's last
command, because the document's ``--remote sc://localhost:15002`` commands come before it.

The runner prints one line as each command starts and one as it ends (seconds, exit code),
stops at the first failure (the document and line, the command, its exit code and the end
of its output) and prints a summary. Every command it runs must exit 0: the docs show no
command that is expected to fail. The commands it does not run are in :data:`SKIPS`, each
with its reason, printed at the end. Exit code 0 only when every command it ran exited 0.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from identity_graph_tests.support.docs import (
    DOCS,
    GENERATED_DOCS,
    README,
    ROOT,
    code_blocks,
    command_words,
    program_words,
    rel,
    shell_blocks,
)

if TYPE_CHECKING:
    from identity_graph_tests.support.unity_catalog import RecordedUnityCatalog


@dataclass(frozen=True)
class Skip:
    """Command lines the runner does not run: those whose words (from the program on, or with
    their leading ``NAME=value`` assignments) start with ``prefix``."""

    prefix: str
    reason: str

    def matches(self, words: list[str]) -> bool:
        wanted = self.prefix.split()
        return words[: len(wanted)] == wanted

    def applies_to(self, command: str) -> bool:
        """Whether the command line ``command`` is one this skips."""
        return self.matches(program_words(command)) or self.matches(command_words(command))


#: The only command lines of the docs that are not run, and why. Keep it short: a command
#: that can run here runs.
SKIPS = (
    Skip("make test", "what CI itself runs (.ci/run calls `make test`), not run twice from the docs runner"),
    Skip("databricks secrets", "needs the Databricks CLI and a real workspace, which this machine has not"),
    Skip(
        "IDENTITY_GRAPH_SPARK_REMOTE=sc://$WORKSPACE_HOST:443/;use_ssl=true;token=$DATABRICKS_TOKEN;x-databricks-cluster-id=$CLUSTER_ID",
        "needs a Databricks cluster's Spark Connect endpoint, which this machine has not (test_databricks_loopback "
        "runs the same way against a local Connect server)",
    ),
)

#: The documented example paths and where, under the temporary directory, they go instead.
EXAMPLE_PATHS = {"/data/warehouse": "data/warehouse", "/tmp/warehouse": "tmp/warehouse"}
#: Programs whose command lines name project files (the Makefile, pyproject.toml's [tool.dg],
#: workspace.yaml): they run from the project root.
PROJECT_PROGRAMS = {"make", "dg", "dagster"}
VENV_BIN = ROOT / ".venv" / "bin"
RUN_CONFIG = "run.yaml"
COMMAND_TIMEOUT_SECONDS = 40 * 60
TAIL_LINES = 40
DAGSTER_YAML = "nux:\n  enabled: false\ntelemetry:\n  enabled: false\n"
ASSIGNMENTS_ONLY = re.compile(r"""^(?:[A-Za-z_][A-Za-z0-9_]*=(?:\$\([^\n]*\)|"[^"]*"|'[^']*'|[^\s'"$]*)\s*)+$""")


@dataclass(frozen=True)
class Server:
    """A long-running command: how to tell it answers."""

    name: str
    port: int
    http_path: str | None  # None: the port accepting a TCP connection is enough
    whole_document: bool  # started when the runner reaches its document, stopped after its last command
    start_timeout: float
    dagster: bool = False  # a Dagster webserver: ready once its code location has loaded, too

    def answers(self) -> bool:
        if self.http_path is None:
            return _port_open(self.port)
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{self.http_path}", timeout=5) as response:
                if response.status != 200:
                    return False
        except (OSError, urllib.error.URLError):
            return False
        return not self.dagster or _code_location_loaded(f"http://127.0.0.1:{self.port}")


def _code_location_loaded(url: str) -> bool:
    """True once the UI's code locations have loaded; ``Failure`` naming the error when one failed to."""
    from identity_graph_tests.support.webserver import DagsterUI, GraphQLError

    try:
        answer = DagsterUI(url).query(
            "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus"
            " locationOrLoadError { __typename ... on PythonError { message } } } } } }"
        )
    except (OSError, urllib.error.URLError, GraphQLError):
        return False
    entries = answer["workspaceOrError"].get("locationEntries") or []
    for entry in entries:
        error = entry.get("locationOrLoadError") or {}
        if error.get("__typename") == "PythonError":
            raise Failure(f"the UI's code location {entry['name']} failed to load: {error.get('message')}")
    return bool(entries) and all(e["loadStatus"] == "LOADED" for e in entries)


DAGSTER_UI = Server("the Dagster UI", 3000, "/server_info", whole_document=False, start_timeout=300, dagster=True)
SPARK_CONNECT = Server("the Spark Connect server", 15002, None, whole_document=True, start_timeout=600)


def server_of(words: list[str]) -> Server | None:
    """The server a command line starts, if it starts one."""
    if words[:2] in (["make", "dev"], ["dg", "dev"], ["dagster", "dev"]):
        return DAGSTER_UI
    if any(word.endswith("SparkConnectServer") for word in words):
        return SPARK_CONNECT
    return None


@dataclass
class Step:
    """One ``bash -c`` of the plan: one command line of a document (with the variable
    assignments before it in its code block)."""

    doc: Path
    lines: list[tuple[int, str]]  # (line number, command line) as the document has them
    action: str = "run"  # "run", "serve", "skip" or "duplicate"
    reason: str = ""
    server: Server | None = None
    databricks: bool = False  # IDENTITY_GRAPH_TARGET=databricks: against the loopback Unity Catalog
    in_project: bool = False  # run from the project root rather than the temporary directory
    index: int = 0  # its number among the commands run, once started
    result: str = ""  # "exit 0", "served", ... once finished
    seconds: float = 0.0

    @property
    def where(self) -> str:
        return f"{rel(self.doc)}:{self.lines[-1][0]}"

    @property
    def script(self) -> str:
        return "\n".join(command for _, command in self.lines)

    @property
    def command(self) -> str:
        """The command line proper (the last line; the ones before it only assign variables)."""
        return self.lines[-1][1]

    @property
    def shown(self) -> str:
        text = self.script.replace("\n", "; ")
        return text if len(text) <= 110 else text[:107] + "..."


def is_comment(command: str) -> bool:
    return command.lstrip().startswith("#")


def only_assigns(command: str) -> bool:
    return bool(ASSIGNMENTS_ONLY.match(command.strip()))


def documents() -> list[Path]:
    return [path for path in DOCS if path not in GENERATED_DOCS]


def plan() -> list[Step]:
    """Every command line of the docs, in reading order, with what the runner does with it."""
    steps: list[Step] = []
    for path in documents():
        for block in shell_blocks(path):
            pending: list[tuple[int, str]] = []
            for line_number, command in block:
                if is_comment(command):
                    continue
                pending.append((line_number, command))
                if not only_assigns(command):
                    steps.append(Step(path, pending))
                    pending = []
            if pending:  # assignments that end a block: run them as they are
                steps.append(Step(path, pending))
    seen: dict[str, str] = {}
    for step in steps:
        words = program_words(step.command)
        key = "\n".join(" ".join(command_words(command)) for _, command in step.lines)
        skip = next((s for s in SKIPS if s.applies_to(step.command)), None)
        step.in_project = bool(words and words[0] in PROJECT_PROGRAMS) or ".venv/" in step.script
        step.databricks = "IDENTITY_GRAPH_TARGET=databricks" in command_words(step.command)
        if skip is not None:
            step.action, step.reason = "skip", skip.reason
        elif key in seen:
            step.action, step.reason = "duplicate", f"the same command ran at {seen[key]}"
        else:
            seen[key] = step.where
            step.server = server_of(words)
            step.action = "run" if step.server is None else "serve"
    return steps


def readme_run_config() -> str:
    """The README's example run config: the yaml block just before its ``--config run.yaml`` line."""
    last_yaml = None
    for info, _, body in code_blocks(README):
        if info in ("yaml", "yml"):
            last_yaml = "\n".join(body) + "\n"
        elif any(f"--config {RUN_CONFIG}" in line for line in body):
            if last_yaml is None:
                break
            return last_yaml
    raise LookupError(f"README.md has no yaml block before an `identity-graph generate --config {RUN_CONFIG}` line")


# --------------------------------------------------------------------------- running


def _port_open(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False


def environment(work: Path) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("IDENTITY_GRAPH_", "DATABRICKS_", "ARM_"))
        and name not in ("SPARK_REMOTE", "SPARK_CONNECT_MODE_ENABLED", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")
    }
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["IDENTITY_GRAPH_WAREHOUSE"] = str(work / "warehouse")
    env["DAGSTER_HOME"] = str(work / "dagster_home")
    # dagster.yaml's `telemetry: enabled: false` does not stop the webserver's and daemon's
    # upload thread, which moves $DAGSTER_HOME/logs (where identity-graph writes its run
    # logs) aside and posts each file to Dagster's telemetry server; this does.
    env["DAGSTER_DISABLE_TELEMETRY"] = "1"
    return env


def substitute_paths(script: str, work: Path) -> str:
    for documented, under_work in EXAMPLE_PATHS.items():
        script = script.replace(documented, str(work / under_work))
    return script


def recorded_workspace() -> RecordedUnityCatalog:
    """A loopback Unity Catalog replaying the recorded answers for ``main.identity_graph``
    (see the module's docstring); a ``RecordedUnityCatalog``, to be closed."""
    from identity_graph.model import TABLE_NAMES
    from identity_graph_tests.support.unity_catalog import ME, RecordedUnityCatalog

    uc, user, groups = "GET /api/2.1/unity-catalog", "someone@example.com", ("data-engineers", "account users")
    schema = "main.identity_graph"
    existing = {"households": "databricks/table_households.json", "individuals": "databricks/table_individuals.json"}
    routes = {
        ME: "databricks/me_user.json",
        # IDENTITY_GRAPH_CATALOG is not set: the target asks the workspace for its default catalog.
        "GET /api/2.0/settings/types/default_namespace_ws/names/default": "databricks/setting_default_namespace_main.json",
        f"{uc}/catalogs/main": "databricks/catalog_main.json",
        f"{uc}/schemas/{schema}": "databricks/schema_identity_graph.json",
        f"{uc}/effective-permissions/catalog/main?principal={user}": "databricks/effective_catalog_user_use_catalog.json",
        f"{uc}/effective-permissions/schema/{schema}?principal={user}": (
            "databricks/effective_schema_user_use_schema_create_table.json"
        ),
    }
    for table in TABLE_NAMES:
        routes[f"{uc}/tables/{schema}.{table}"] = existing.get(table, "databricks/table_missing.json")
    securables = [("catalog", "main"), ("schema", schema)] + [("table", f"{schema}.{t}") for t in existing]
    for table in existing:
        routes[f"{uc}/effective-permissions/table/{schema}.{table}?principal={user}"] = (
            "databricks/effective_table_user_modify_select.json"
        )
    for kind, name in securables:
        for group in groups:
            routes[f"{uc}/effective-permissions/{kind}/{name}?principal={group}"] = "databricks/effective_none.json"
    return RecordedUnityCatalog(routes)


def tail(log: Path, lines: int = TAIL_LINES) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no output)"


def _session_members(session: int) -> list[int]:
    """The live processes (zombies aside) whose session id is ``session``: one started with
    ``start_new_session`` and everything it started."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()  # state, ppid, pgrp, session, ...
            if int(fields[3]) == session and fields[0] != "Z":
                members.append(int(entry.name))
    return members


def stop(process: subprocess.Popen, grace_seconds: float = 20.0) -> None:
    """Stop ``process``, started with ``start_new_session``, and everything in its session:
    SIGINT to its process group (Ctrl-C in a terminal), then SIGTERM, then SIGKILL."""
    for signal_number, wait_seconds in ((signal.SIGINT, grace_seconds), (signal.SIGTERM, 10.0)):
        if process.poll() is not None and not _session_members(process.pid):
            break
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal_number)
        deadline = time.monotonic() + wait_seconds
        while (process.poll() is None or _session_members(process.pid)) and time.monotonic() < deadline:
            time.sleep(0.25)
    deadline = time.monotonic() + 10
    while (members := _session_members(process.pid)) and time.monotonic() < deadline:
        for pid in members:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.25)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)


class Failure(Exception):
    """A command failed; the message says where, what, and how."""


@dataclass
class Runner:
    work: Path
    steps: list[Step]
    keep_going: bool = False  # report a failure and go on, rather than stop at it
    env: dict[str, str] = field(default_factory=dict)
    count: int = 0
    failures: list[Failure] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.env = environment(self.work)
        self.logs = self.work / "logs"
        self.logs.mkdir(parents=True)
        home = Path(self.env["DAGSTER_HOME"])
        home.mkdir(parents=True)
        (home / "dagster.yaml").write_text(DAGSTER_YAML)
        (self.work / RUN_CONFIG).write_text(readme_run_config())
        self.total = sum(step.action in ("run", "serve") for step in self.steps)

    def cwd(self, step: Step) -> Path:
        return ROOT if step.in_project else self.work

    def label(self, step: Step) -> str:
        return f"[{step.index:2}/{self.total}]"

    def start(self, step: Step, extra_env: Mapping[str, str] | None = None) -> subprocess.Popen:
        self.count += 1
        step.index = self.count
        print(f"{self.label(step)} {step.where}  {step.shown}", flush=True)
        with open(self.log(step), "wb") as out:
            return subprocess.Popen(
                ["bash", "-c", substitute_paths(step.script, self.work)],
                cwd=self.cwd(step),
                env={**self.env, **(extra_env or {})},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self, step: Step) -> Path:
        return self.logs / f"{step.index:02}.log"

    def fail(self, step: Step, what: str) -> Failure:
        step.result = step.result or "FAILED"
        command = "\n".join(f"  {line}" for line in step.script.splitlines())
        return Failure(
            f"FAILED at {step.where}:\n{command}\n{what}\n"
            f"--- the last {TAIL_LINES} lines of its output ({self.log(step)}) ---\n{tail(self.log(step))}"
        )

    def run(self, step: Step) -> None:
        started = time.monotonic()
        workspace = recorded_workspace() if step.databricks else None
        try:
            extra = {}
            if workspace is not None:
                from identity_graph_tests.support.unity_catalog import TOKEN

                extra = {
                    "DATABRICKS_HOST": workspace.host,
                    "DATABRICKS_TOKEN": TOKEN,
                    "DATABRICKS_CONFIG_FILE": os.devnull,
                }
            process = self.start(step, extra)
            try:
                code = process.wait(timeout=COMMAND_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                raise self.fail(step, f"still running after {COMMAND_TIMEOUT_SECONDS} s: stopped") from None
            finally:
                stop(process, grace_seconds=5)  # and whatever it left running in its session
        finally:
            if workspace is not None:
                workspace.close()
        step.seconds = time.monotonic() - started
        step.result = f"exit {code}"
        print(f"{self.label(step)} exit {code}  {step.seconds:.1f} s", flush=True)
        if code != 0:
            raise self.fail(step, f"exit code {code} after {step.seconds:.1f} s")
        if workspace is not None and workspace.unexpected:
            raise self.fail(
                step,
                "the recorded Unity Catalog answers do not cover these requests: " + ", ".join(workspace.unexpected),
            )

    def answers(self, step: Step) -> bool:
        try:
            return step.server.answers()
        except Failure as error:  # a code location that failed to load
            raise self.fail(step, str(error)) from None

    @contextlib.contextmanager
    def serve(self, step: Step) -> Iterator[None]:
        """Start the server of ``step``, wait until it answers, and stop it on exit."""
        server = step.server
        assert server is not None
        if _port_open(server.port):
            raise Failure(
                f"FAILED at {step.where}: port {server.port} is already in use, so {server.name} "
                f"started by `{step.command}` could not be told from whatever listens there; stop that first"
            )
        started = time.monotonic()
        process = self.start(step)
        answered = None
        try:
            while not self.answers(step):
                if process.poll() is not None:
                    raise self.fail(step, f"{server.name} exited with {process.returncode} before it answered")
                if time.monotonic() - started > server.start_timeout:
                    raise self.fail(step, f"{server.name} did not answer within {server.start_timeout:.0f} s")
                time.sleep(1)
            answered = time.monotonic() - started
            print(f"{self.label(step)} {server.name} answers on port {server.port} after {answered:.1f} s", flush=True)
            yield
        finally:
            stopping = time.monotonic()
            stop(process)
            deadline = time.monotonic() + 30
            while _port_open(server.port) and time.monotonic() < deadline:
                time.sleep(0.5)
            stopped = time.monotonic()
            # Its own cost: starting and stopping, not the commands that ran while it was up.
            step.seconds = stopped - started if answered is None else answered + stopped - stopping
        step.result = "served"
        print(
            f"{self.label(step)} {server.name} stopped in {stopped - stopping:.1f} s, "
            f"after {stopping - started:.1f} s up",
            flush=True,
        )

    def attempt(self, action: Callable[[], object]) -> None:
        """Do ``action``; with ``keep_going``, report its failure and go on."""
        try:
            action()
        except Failure as failure:
            if not self.keep_going:
                raise
            print(f"\n{failure}\n", flush=True)
            self.failures.append(failure)

    def serve_and_stop(self, step: Step) -> None:
        with self.serve(step):
            pass

    def run_all(self) -> None:
        for path in documents():
            steps = [step for step in self.steps if step.doc == path]
            with contextlib.ExitStack() as document:
                for step in steps:
                    if step.action == "serve" and step.server.whole_document:
                        self.attempt(lambda step=step: document.enter_context(self.serve(step)))
                for step in steps:
                    if step.action == "run":
                        self.attempt(lambda step=step: self.run(step))
                    elif step.action == "serve" and not step.server.whole_document:
                        self.attempt(lambda step=step: self.serve_and_stop(step))


def summary(steps: list[Step]) -> str:
    out = ["", "Summary:"]
    for step in steps:
        if step.result:
            status = f"{step.result:>9} {step.seconds:7.1f} s"
        elif step.action in ("run", "serve"):
            status = f"{'not run':>9} {'':9}"
        else:
            status = f"{step.action:>9} {'':9}"
        out.append(f"  {status}  {step.where:28} {step.shown}")
    skipped = [step for step in steps if step.action == "skip"]
    out += ["", f"Not run ({len(skipped)} lines; the SKIPS table of identity_graph_tests/doc_commands.py):"]
    for skip in SKIPS:
        lines = [s.where for s in skipped if s.reason == skip.reason]
        out.append(f"  {skip.prefix!r} ({', '.join(lines) or 'no line'}): {skip.reason}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m identity_graph_tests.doc_commands", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--list", action="store_true", help="print the plan and run nothing")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument(
        "--keep-going", action="store_true", help="after a failure, go on with the next command (to see them all)"
    )
    args = parser.parse_args(argv)
    steps = plan()
    if args.list:
        for step in steps:
            print(f"{step.action:9} {'root' if step.in_project else 'tmp ':4} {step.where:28} {step.shown}")
            if step.reason:
                print(f"{'':15}{step.reason}")
        return 0
    work = Path(tempfile.mkdtemp(prefix="identity_graph_doc_commands_"))
    print(
        f"Running the docs' commands in {work} (IDENTITY_GRAPH_WAREHOUSE={work / 'warehouse'}, DAGSTER_HOME={work / 'dagster_home'})",
        flush=True,
    )
    started = time.monotonic()
    runner = Runner(work, steps, keep_going=args.keep_going)
    code = 0
    try:
        runner.run_all()
    except Failure as failure:
        print(f"\n{failure}", flush=True)
        code = 1
    except KeyboardInterrupt:
        print("\ninterrupted", flush=True)
        code = 130
    if runner.failures:
        code = 1
    minutes, seconds = divmod(round(time.monotonic() - started), 60)
    print(summary(steps))
    ran = [s for s in steps if s.result]
    failed = [s.where for s in steps if s.result and s.result not in ("exit 0", "served")]
    print(
        f"\n{len(ran)} of {runner.total} commands ran in {minutes} min {seconds:02} s: "
        + ("all succeeded." if code == 0 else f"FAILED ({', '.join(failed) or 'interrupted'}).")
    )
    if code == 0 and not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"The temporary directory is kept: {work}")
    return code


if __name__ == "__main__":
    sys.exit(main())
