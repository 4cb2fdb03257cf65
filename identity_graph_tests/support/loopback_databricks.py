"""A loopback Databricks workspace for tests: the REST calls the step launcher, databricks-sdk
and the project's preflight make, answered on 127.0.0.1 — and submitted runs *executed*.

What it answers:

- DBFS 2.0 (``create`` / ``add-block`` / ``close``, ``read``, ``get-status``, ``delete``) over a
  local directory: DBFS path ``/x/y`` is ``<root>/dbfs/x/y``.
- Jobs (``runs/submit``, ``runs/get``, ``runs/cancel``; any API version 2.x). A submitted
  ``spark_python_task`` runs for real: its ``dbfs:`` file and ``/dbfs/`` parameters are mapped
  into the DBFS directory and dagster-databricks' own step entry point is executed with this
  Python (the project's virtualenv: the cluster's libraries), in its own process group, with
  ``DATABRICKS_RUNTIME_VERSION`` set as on a cluster, the workspace's secret scopes behind
  ``dbutils.secrets.get`` and Spark reached through ``SPARK_REMOTE`` (a Spark Connect server
  with Delta). Its state is PENDING → RUNNING → TERMINATED (SUCCESS when the process exits 0,
  FAILED otherwise, CANCELED on ``runs/cancel``).
- SCIM ``Me`` and Unity Catalog objects and effective permissions, for a user holding ALL
  PRIVILEGES on every catalog: the preflight passes and tables do not exist yet.
- The workspace's default catalog: the ``default_namespace_ws`` setting (``default_namespace``;
  404 ``RESOURCE_DOES_NOT_EXIST`` when None, as on a workspace where it was never set, or the
  403 a non-admin gets when ``settings_denied``) and the current metastore assignment's
  ``default_catalog_name`` (``default_catalog``; left out when None).
- A metadata service on :attr:`metadata_service_url` handing out the token (unauthenticated, as a
  local metadata service is): with ``DATABRICKS_METADATA_SERVICE_URL`` set to it, databricks-sdk's
  default credential chain authenticates through its ``metadata-service`` provider.

Every request must carry ``Authorization: Bearer <token>``; any other gets the workspace's
403. Nothing of the launcher or of the step entry point is replaced.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

USER = "someone@example.com"
#: Where the loopback's metadata service answers (databricks-sdk's DATABRICKS_METADATA_SERVICE_URL).
METADATA_PATH = "/metadata-service/token"
#: The Databricks Runtime a loopback cluster claims (RUNTIME_VARIABLE in resources/databricks.py).
RUNTIME_VERSION = "17.3"
#: Runs the entry point as a cluster's driver does: as ``__main__``, with ``dbutils`` and ``sc`` defined.
#: It then records where ``identity_graph`` was imported from (so a test can tell the shipped package
#: ran), the target's environment the launcher exported, and whether the token came from a secret scope.
BOOT = """
import json, os, runpy, sys, time
secrets = json.loads(os.environ.pop("LOOPBACK_SECRETS"))
held = os.environ.pop("LOOPBACK_HOLD", "")
while held and not os.path.exists(held):  # a held run is RUNNING and does nothing until released
    time.sleep(0.05)
class Secrets:
    def get(self, scope, key):
        return secrets[scope + "/" + key]
class DBUtils:
    secrets = Secrets()
entry, *parameters = sys.argv[1:]
sys.argv = [entry, *parameters]
try:
    runpy.run_path(entry, init_globals={"dbutils": DBUtils(), "sc": None}, run_name="__main__")
finally:
    module = sys.modules.get("identity_graph")
    seen = {
        "imported_from": getattr(module, "__file__", "") or "",
        "environment": {k: v for k, v in os.environ.items() if k.startswith("IDENTITY_GRAPH_") or k == "DATABRICKS_HOST"},
        "token_from_scope": bool(os.environ.get("DATABRICKS_TOKEN")) and os.environ["DATABRICKS_TOKEN"] in secrets.values(),
    }
    with open(os.environ["LOOPBACK_SEEN"], "w") as out:
        json.dump(seen, out)
"""


@dataclass
class Run:
    """One submitted run: its request, its process and where its output went."""

    run_id: int
    request: dict[str, Any]
    directory: Path
    process: subprocess.Popen | None = None
    cancelled: bool = False
    started: float = field(default_factory=time.monotonic)

    def state(self) -> dict[str, str]:
        if self.process is None:
            return {"life_cycle_state": "PENDING", "state_message": ""}
        code = self.process.poll()
        if code is None:
            return {"life_cycle_state": "RUNNING", "state_message": ""}
        if self.cancelled:
            return {"life_cycle_state": "TERMINATED", "result_state": "CANCELED", "state_message": "Run cancelled."}
        if code == 0:
            return {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS", "state_message": ""}
        tail = self.output()[-2000:]
        return {"life_cycle_state": "TERMINATED", "result_state": "FAILED", "state_message": f"exit {code}: {tail}"}

    def output(self) -> str:
        with contextlib.suppress(OSError):
            return (self.directory / "driver.log").read_text(errors="replace")
        return ""

    @property
    def running(self) -> bool:
        """Whether the run's process has started and not ended."""
        return self.process is not None and self.process.poll() is None

    def release(self) -> None:
        """Let a run the workspace holds (``hold_runs``) go on."""
        (self.directory / "release").touch()

    def seen(self) -> dict[str, Any]:
        """What the run's process recorded: ``imported_from``, ``environment``, ``token_from_scope``."""
        with contextlib.suppress(OSError, ValueError):
            return json.loads((self.directory / "seen.json").read_text())
        return {}


class LoopbackDatabricks:
    """The workspace on ``self.host`` (``http://127.0.0.1:PORT``), its DBFS under ``root/dbfs``.

    ``secrets`` maps ``"scope/key"`` to values; ``spark_remote`` is the ``sc://`` URL runs use
    for Spark; ``environment`` is added to every run's environment. ``default_namespace`` (the
    workspace setting) and ``default_catalog`` (the metastore assignment's) are what the workspace
    says its default catalog is; ``settings_denied`` answers the setting with a 403. ``hold_runs``:
    each run, once RUNNING, waits for :meth:`Run.release` before it does anything (a test can act
    on a run that is still running, e.g. cancel it).
    """

    def __init__(
        self,
        root: Path,
        token: str,
        *,
        secrets: Mapping[str, str] | None = None,
        spark_remote: str | None = None,
        environment: Mapping[str, str] | None = None,
        default_namespace: str | None = None,
        default_catalog: str | None = "main",
        settings_denied: bool = False,
        hold_runs: bool = False,
    ) -> None:
        self.hold_runs = hold_runs
        self.default_namespace = default_namespace
        self.default_catalog = default_catalog
        self.settings_denied = settings_denied
        self.root = Path(root)
        self.dbfs = self.root / "dbfs"
        self.dbfs.mkdir(parents=True, exist_ok=True)
        self.token = token
        self.secrets = dict(secrets or {})
        self.spark_remote = spark_remote
        self.environment = dict(environment or {})
        self.requests: list[str] = []
        self.runs: dict[int, Run] = {}
        self._handles: dict[int, tuple[Path, bytearray]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer._serve(self)

            def do_POST(self) -> None:
                outer._serve(self)

            def do_PATCH(self) -> None:
                outer._serve(self)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.metadata_service_url = self.host + METADATA_PATH
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    # -- HTTP ---------------------------------------------------------------------------------

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        split = urllib.parse.urlsplit(handler.path)
        path = urllib.parse.unquote(split.path)
        query = dict(urllib.parse.parse_qsl(split.query))
        length = int(handler.headers.get("Content-Length") or 0)
        body = json.loads(handler.rfile.read(length) or b"{}") if length else {}
        self.requests.append(f"{handler.command} {path}")
        if path == METADATA_PATH:
            if handler.headers.get("X-Databricks-Host", "").rstrip("/") == self.host:
                status, payload = (
                    200,
                    {"access_token": self.token, "token_type": "Bearer", "expires_on": int(time.time()) + 3600},
                )
            else:
                status, payload = (
                    400,
                    {"error": f"not a metadata service of {handler.headers.get('X-Databricks-Host')}"},
                )
        elif handler.headers.get("Authorization") != f"Bearer {self.token}":
            status, payload = 403, {"error_code": "403", "message": "Invalid access token."}
        else:
            try:
                status, payload = self._route(handler.command, path, query, body)
            except Exception as error:  # noqa: BLE001 - the client sees what went wrong, as from a workspace
                status, payload = 500, {"error_code": "INTERNAL_ERROR", "message": f"{type(error).__name__}: {error}"}
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _route(self, method: str, path: str, query: dict[str, str], body: dict[str, Any]) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        if path == "/api/2.0/preview/scim/v2/Me":
            return 200, {"id": "4815162342", "userName": USER, "active": True, "groups": []}
        if path.startswith("/api/2.0/dbfs/"):
            return self._dbfs(parts[-1], query if method == "GET" else body)
        if len(parts) >= 5 and parts[:2] == ["api", parts[1]] and parts[2] == "jobs" and parts[3] == "runs":
            return self._jobs(parts[4], query if method == "GET" else body)
        if path == "/api/2.0/settings/types/default_namespace_ws/names/default" and method == "GET":
            return self._default_namespace()
        if path == "/api/2.1/unity-catalog/current-metastore-assignment":
            assignment = {"workspace_id": 1234567890, "metastore_id": "11111111-2222-3333-4444-555555555555"}
            if self.default_catalog is not None:
                assignment["default_catalog_name"] = self.default_catalog
            return 200, assignment
        if path.startswith("/api/2.1/unity-catalog/"):
            return self._unity_catalog(parts[3:], query)
        return 404, {"error_code": "ENDPOINT_NOT_FOUND", "message": f"No API found for '{method} {path}'"}

    # -- DBFS ---------------------------------------------------------------------------------

    def local(self, dbfs_path: str) -> Path:
        """The local file of a DBFS path (``/x``, ``dbfs:/x``, ``dbfs:///x`` or ``/dbfs/x``)."""
        text = dbfs_path.removeprefix("dbfs:")
        text = text[len("/dbfs/") :] if text.startswith("/dbfs/") else text
        return self.dbfs / text.lstrip("/")

    def _dbfs(self, operation: str, args: dict[str, Any]) -> tuple[int, Any]:
        if operation == "create":
            target = self.local(args["path"])
            if target.exists() and not args.get("overwrite"):
                return 400, {"error_code": "RESOURCE_ALREADY_EXISTS", "message": f"{args['path']} already exists"}
            with self._lock:
                handle = next(self._ids)
                self._handles[handle] = (target, bytearray())
            return 200, {"handle": handle}
        if operation == "add-block":
            self._handles[int(args["handle"])][1].extend(base64.b64decode(args["data"]))
            return 200, {}
        if operation == "close":
            target, content = self._handles.pop(int(args["handle"]))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(bytes(content))
            return 200, {}
        target = self.local(args["path"])
        if operation == "delete":
            if target.is_dir():
                import shutil

                shutil.rmtree(target)
            else:
                target.unlink(missing_ok=True)
            return 200, {}
        if not target.exists():
            return 404, {
                "error_code": "RESOURCE_DOES_NOT_EXIST",
                "message": f"No file or directory exists on path {args['path']}.",
            }
        if operation == "get-status":
            return 200, {"path": args["path"], "is_dir": target.is_dir(), "file_size": target.stat().st_size}
        if operation == "read":
            offset, length = int(args.get("offset", 0)), int(args.get("length", 1 << 20))
            with target.open("rb") as stream:
                stream.seek(offset)
                data = stream.read(length)
            return 200, {"bytes_read": len(data), "data": base64.b64encode(data).decode()}
        return 404, {"error_code": "ENDPOINT_NOT_FOUND", "message": f"dbfs/{operation}"}

    # -- Jobs ---------------------------------------------------------------------------------

    def _jobs(self, operation: str, args: dict[str, Any]) -> tuple[int, Any]:
        if operation == "submit":
            with self._lock:
                run_id = 1000 + next(self._ids)
            run = Run(run_id, args, self.root / "runs" / str(run_id))
            run.directory.mkdir(parents=True)
            self.runs[run_id] = run
            self._start(run)
            return 200, {"run_id": run_id}
        run = self.runs.get(int(args["run_id"]))
        if run is None:
            return 400, {"error_code": "INVALID_PARAMETER_VALUE", "message": f"Run {args['run_id']} does not exist."}
        if operation == "get":
            return 200, {
                "run_id": run.run_id,
                "run_name": run.request.get("run_name", ""),
                "run_page_url": f"{self.host}/#job/runs/{run.run_id}",
                "state": run.state(),
            }
        if operation == "cancel":
            run.cancelled = run.process is not None and run.process.poll() is None
            if run.cancelled:
                _kill(run.process)
            return 200, {}
        return 404, {"error_code": "ENDPOINT_NOT_FOUND", "message": f"jobs/runs/{operation}"}

    def _start(self, run: Run) -> None:
        (task,) = run.request["tasks"]
        python_task = task["spark_python_task"]
        entry = self.local(python_task["python_file"])
        parameters = [
            str(self.local(p)) if p.startswith(("/dbfs/", "dbfs:")) else p for p in python_task.get("parameters", [])
        ]
        environment = {
            key: value
            for key, value in os.environ.items()
            # A cluster knows nothing of the Dagster host's settings, its workspace credentials included.
            if not key.startswith(("DATABRICKS_", "IDENTITY_GRAPH_", "DAGSTER_", "SPARK_REMOTE", "PYTHONPATH"))
        }
        environment.update(
            {
                "DATABRICKS_RUNTIME_VERSION": RUNTIME_VERSION,
                "LOOPBACK_SECRETS": json.dumps(self.secrets),
                "LOOPBACK_SEEN": str(run.directory / "seen.json"),
                **({"LOOPBACK_HOLD": str(run.directory / "release")} if self.hold_runs else {}),
                **({"SPARK_REMOTE": self.spark_remote} if self.spark_remote else {}),
                **self.environment,
            }
        )
        with (run.directory / "driver.log").open("wb") as log:
            run.process = subprocess.Popen(
                [sys.executable, "-c", BOOT, str(entry), *parameters],
                cwd=run.directory,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    # -- Settings -----------------------------------------------------------------------------

    def _default_namespace(self) -> tuple[int, Any]:
        if self.settings_denied:
            return 403, {
                "error_code": "PERMISSION_DENIED",
                "message": "Only workspace admins can read the setting default_namespace_ws.",
            }
        if self.default_namespace is None:
            return 404, {
                "error_code": "RESOURCE_DOES_NOT_EXIST",
                "message": "Setting default_namespace_ws/default does not exist.",
            }
        return 200, {
            "etag": "ZXRhZzE=",
            "setting_name": "default",
            "namespace": {"value": self.default_namespace},
        }

    # -- Unity Catalog ------------------------------------------------------------------------

    def _unity_catalog(self, parts: list[str], query: dict[str, str]) -> tuple[int, Any]:
        kind = parts[0]
        if kind in ("catalogs", "schemas") and len(parts) == 2:
            name = parts[1]
            return 200, {"name": name.split(".")[-1], "full_name": name, "owner": "metastore-admins"}
        if kind == "tables" and len(parts) == 2:
            return 404, {"error_code": "TABLE_DOES_NOT_EXIST", "message": "Table does not exist."}
        if kind == "effective-permissions" and len(parts) == 3:
            if query.get("principal") != USER:
                return 200, {}
            catalog = parts[2].split(".")[0]
            privilege = {"privilege": "ALL_PRIVILEGES"}
            if parts[1] != "catalog":
                privilege.update(inherited_from_type="CATALOG", inherited_from_name=catalog)
            return 200, {"privilege_assignments": [{"principal": USER, "privileges": [privilege]}]}
        if kind == "permissions":
            return 200, {}
        return 404, {"error_code": "ENDPOINT_NOT_FOUND", "message": "/".join(parts)}

    def close(self) -> None:
        for run in self.runs.values():
            if run.process is not None:
                _kill(run.process)
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def _kill(process: subprocess.Popen) -> None:
    """SIGKILL the process's group (it was started in its own session) and reap it."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
