"""The project's Dagster UI, as users start it (``dagster dev`` on the project's workspace), on
loopback for tests, and a small client for the GraphQL API the UI itself calls.

``dagster dev`` runs the webserver and the daemon (which dequeues the runs the webserver
submits); each run executes in its own process, as it does for a user.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from identity_graph_tests.support.connect_server import free_port, log_tail, stop_process_group
from identity_graph_tests.support.stored_graph import ROOT

START_TIMEOUT_SECONDS = 120.0
LOCATION, REPOSITORY = "identity_graph", "__repository__"
#: Terminal run states (``DagsterRunStatus``).
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}

#: The mutation the UI's "Materialize" and the launchpad's "Launch Run" send.
LAUNCH_RUN = """
mutation LaunchRun($executionParams: ExecutionParams!) {
  launchPipelineExecution(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on RunConfigValidationInvalid { errors { message path reason } }
    ... on PythonError { message stack }
    ... on InvalidSubsetError { message }
    ... on PipelineNotFoundError { message }
    ... on RunConflict { message }
    ... on UnauthorizedError { message }
  }
}
"""

RUN = """
query Run($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { status stepKeysToExecute tags { key value } }
    ... on PythonError { message }
  }
}
"""

RUN_FAILURE_EVENTS = """
query RunLogs($runId: ID!) {
  logsForRun(runId: $runId, limit: 5000) {
    ... on EventConnection { events {
      __typename
      ... on MessageEvent { message stepKey level }
      ... on ErrorEvent { error { message cause { message } } }
    } }
  }
}
"""


class GraphQLError(RuntimeError):
    """The webserver answered with errors, or a launch was refused."""


class DagsterUI:
    """A client for a running webserver's ``/graphql`` endpoint."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def query(self, document: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        # default=str: run config read from YAML holds dates, which Dagster's config takes as strings.
        body = json.dumps({"query": document, "variables": dict(variables or {})}, default=str).encode()
        request = urllib.request.Request(f"{self.url}/graphql", body, {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                answer = json.load(response)
        except (
            urllib.error.HTTPError
        ) as error:  # the webserver answers a failed mutation with 500 and the error in the body
            raise GraphQLError(f"HTTP {error.code}: {error.read()[:4000].decode(errors='replace')}") from None
        if answer.get("errors"):
            raise GraphQLError(json.dumps(answer["errors"])[:4000])
        return answer["data"]

    def launch(
        self,
        job: str,
        *,
        run_config: Mapping[str, Any],
        assets: Sequence[str] | None = None,
        checks: Sequence[tuple[str, str]] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """Launch ``job`` (or the given assets and ``(asset, check)`` pairs of it) as the UI does; the run id."""
        selector: dict[str, Any] = {
            "repositoryLocationName": LOCATION,
            "repositoryName": REPOSITORY,
            "pipelineName": job,
        }
        if assets is not None:
            selector["assetSelection"] = [{"path": [a]} for a in assets]
        if checks is not None:
            selector["assetCheckSelection"] = [{"assetKey": {"path": [a]}, "name": c} for a, c in checks]
        params = {
            "selector": selector,
            "runConfigData": dict(run_config),
            "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]},
        }
        answer = self.query(LAUNCH_RUN, {"executionParams": params})["launchPipelineExecution"]
        if answer["__typename"] != "LaunchRunSuccess":
            raise GraphQLError(json.dumps(answer)[:4000])
        return answer["run"]["runId"]

    def run(self, run_id: str) -> dict[str, Any]:
        return self.query(RUN, {"runId": run_id})["runOrError"]

    def wait(self, run_id: str, timeout: float = 900.0) -> dict[str, Any]:
        """Poll the run until it finishes; the run (``status``, ``stepKeysToExecute``, ``tags``)."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.run(run_id)
            if run.get("status") in FINISHED:
                return run
            if time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} still {run.get('status')} after {timeout:.0f}s")
            time.sleep(1.0)

    def errors(self, run_id: str) -> str:
        """The run's ERROR-level log messages with their errors and causes, for a failure's assertion message."""
        events = self.query(RUN_FAILURE_EVENTS, {"runId": run_id})["logsForRun"].get("events", [])
        lines = []
        for event in events:
            if event.get("level") != "ERROR":
                continue
            lines.append(f"{event.get('stepKey')}: {event.get('message')}")
            error = event.get("error") or {}
            if error.get("message"):
                lines.append(f"    {error['message'].strip()}")
            if (error.get("cause") or {}).get("message"):
                lines.append(f"    caused by: {error['cause']['message'].strip()}")
        return "\n".join(lines)[:6000]


@dataclass
class Served:
    """A running ``dagster dev``: its URL, ``DAGSTER_HOME`` and warehouse, and the runs tests launched in it."""

    url: str
    home: Path
    warehouse: Path
    runs: dict[str, str] = field(default_factory=dict)

    @property
    def client(self) -> DagsterUI:
        return DagsterUI(self.url)


def _answers(url: str) -> bool:
    with contextlib.suppress(OSError, urllib.error.URLError, ValueError, GraphQLError):
        return bool(DagsterUI(url).query("{ version }").get("version"))
    return False


def _location_loaded(url: str) -> bool:
    """True once the code location has loaded (or failed to: then raise with its error)."""
    answer = DagsterUI(url).query(
        "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus"
        " locationOrLoadError { __typename ... on PythonError { message } } } } } }"
    )
    entries = answer["workspaceOrError"]["locationEntries"]
    for entry in entries:
        error = entry.get("locationOrLoadError") or {}
        if error.get("__typename") == "PythonError":
            raise RuntimeError(f"code location {entry['name']} failed to load: {error['message']}")
    return bool(entries) and all(e["loadStatus"] == "LOADED" and e.get("locationOrLoadError") for e in entries)


@contextlib.contextmanager
def dagster_dev(home: Path, env: Mapping[str, str], timeout: float = START_TIMEOUT_SECONDS) -> Iterator[str]:
    """Start ``dagster dev -w workspace.yaml`` on a free loopback port with ``DAGSTER_HOME=home``
    and ``env`` added to this process's environment; yield the UI's URL once the code location
    has loaded. Output goes to ``home/dagster-dev.log``; the process group is stopped on exit."""
    home.mkdir(parents=True, exist_ok=True)
    # As `make dev` writes it: no first-visit modal over the UI, no telemetry.
    (home / "dagster.yaml").write_text("nux:\n  enabled: false\ntelemetry:\n  enabled: false\n")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = home / "dagster-dev.log"
    command = [
        sys.executable,
        "-m",
        "dagster",
        "dev",
        "-w",
        str(ROOT / "workspace.yaml"),
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
    ]
    with open(log, "wb") as out:
        # Its own session: `dagster dev` then handles SIGTERM, and its children stop with it.
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **env, "DAGSTER_HOME": str(home)},
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + timeout
        while not (_answers(url) and _location_loaded(url)):
            if process.poll() is not None:
                raise RuntimeError(f"dagster dev exited with {process.returncode}:\n{log_tail(log)}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"dagster dev not serving {url} after {timeout:.0f}s:\n{log_tail(log)}")
            time.sleep(0.5)
        yield url
    finally:
        # Webserver, daemon and code server.
        stop_process_group(process, grace_seconds=30)
