"""The target catalog: whether this identity may write the graph's tables there.

:class:`CatalogAccess` holds the tables' :class:`TableLocation` and the credentials to ask
the target. Its preflight runs once per run, in the first step that sets the resource up
(the Delta IO manager and every check depend on it): a run without the privileges it
needs fails before the first table is generated, listing everything missing and the
statements that grant it, and a target that cannot be asked (unreachable, credentials
refused) fails the run once, naming the host and the cause. The ``target_permissions``
asset checks run the same verification and report it per table; the command line runs it
before it launches a run, and tells the run so.
"""

import fcntl
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg
from pydantic import Field

from identity_graph.model import TABLE_NAMES
from identity_graph.partitions import tables_written
from identity_graph.resources.databricks import on_databricks_cluster
from identity_graph.resources.location import TableLocation
from identity_graph.resources.permissions import (
    PermissionReport,
    UnityCatalogError,
    verify_local,
    verify_unity_catalog,
    workspace_client,
)
from identity_graph.resources.permissions.unity_catalog import scrub

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient


class TargetNotWritable(dg.Failure):
    """The target catalog is missing privileges (or objects) this run needs."""


class CatalogAccess(dg.ConfigurableResource):
    """The target catalog: its location, and the verification that this identity may write there.

    ``local``: a Delta warehouse directory. ``databricks``: Unity Catalog through
    databricks-sdk on ``databricks_host``, authenticated by the SDK's unified auth: with
    ``databricks_token`` (pass it as ``dg.EnvVar("DATABRICKS_TOKEN")``: it is never logged or
    shown), else a service principal's OAuth client, else the config profile
    ``databricks_profile``, else the SDK's default credential chain. The client's timeouts are
    bounded whichever it is.
    """

    location: dg.ResourceDependency[TableLocation] = Field(
        description="Where the tables are: decided by the code location's target settings, not by run config."
    )
    databricks_host: str | None = Field(
        default=None, description="Workspace URL (https://…), for the databricks target."
    )
    databricks_token: str | None = Field(
        default=None, description="Access token for the databricks target; set it from an EnvVar."
    )
    databricks_client_id: str | None = Field(
        default=None, description="Service principal's OAuth client id (instead of a token); from an EnvVar."
    )
    databricks_client_secret: str | None = Field(
        default=None, description="Service principal's OAuth client secret; from an EnvVar."
    )
    databricks_profile: str | None = Field(
        default=None,
        description="Profile of databricks-sdk's config file to authenticate with (instead of a token or OAuth "
        "client; its name, not a secret). None of the three: the SDK's default credential chain.",
    )
    databricks_config_file: str | None = Field(
        default=None, description="databricks-sdk's config file holding the profile (default ~/.databrickscfg)."
    )

    def workspace_client(self) -> "WorkspaceClient":
        """A databricks-sdk client for the workspace, with timeouts bounded for a preflight check."""
        if not self.databricks_host:
            raise dg.Failure(
                description="The databricks target needs DATABRICKS_HOST (or a DATABRICKS_CONFIG_PROFILE with a host) "
                "to verify Unity Catalog privileges"
            )
        try:
            return workspace_client(
                self.databricks_host,
                self.databricks_token,
                client_id=self.databricks_client_id,
                client_secret=self.databricks_client_secret,
                profile=self.databricks_profile,
                config_file=self.databricks_config_file,
            )
        except Exception as error:  # noqa: BLE001 - the SDK resolves credentials (OAuth endpoints, CLIs) here
            message = scrub(str(error), (self.databricks_token, self.databricks_client_secret))
            if not (self.databricks_token or self.databricks_client_secret or self.databricks_profile):
                message += (
                    " (no DATABRICKS_TOKEN, DATABRICKS_CLIENT_ID/DATABRICKS_CLIENT_SECRET or DATABRICKS_CONFIG_PROFILE "
                    "is set, so databricks-sdk's default credential chain was asked)"
                )
            raise UnityCatalogError(
                f"Cannot connect to Databricks at {self.databricks_host}: {type(error).__name__}: {message}"
            ) from None

    def verify(self, tables: Sequence[str] = TABLE_NAMES) -> PermissionReport:
        """What this identity may and may not do on the target, for writing ``tables``."""
        where = self.location
        if where.managed:
            return verify_unity_catalog(self.workspace_client(), where.catalog, where.schema, list(tables))
        return verify_local(where.warehouse, where.catalog, where.schema, list(tables))

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # Before any step of a run that writes tables: fail at once if the target cannot take them.
        preflight(context, self.verify)


#: Run tag with the outcome of the run's preflight, shared by all its step processes: ``ok``
#: (the tables the run writes were verified), ``reachable`` (a run of checks alone: the target
#: answered; its permission checks report the privileges) or ``failed``.
PREFLIGHT_TAG = "identity_graph/preflight"
#: Run tag: why the preflight failed, in one line; every later step of the run fails with it at once.
PREFLIGHT_FAILURE_TAG = "identity_graph/preflight_failure"
PREFLIGHT_OK, PREFLIGHT_REACHABLE, PREFLIGHT_FAILED = "ok", "reachable", "failed"


def preflight(context: dg.InitResourceContext, verify: Callable[[list[str]], PermissionReport]) -> None:
    """Verify the target once per run, before its first step: raise :class:`TargetNotWritable`
    naming what is missing (or why the target could not be asked).

    A run that writes tables verifies those tables; a run of checks alone only that the target
    answers (its permission checks report the privileges). The outcome is recorded as run tags
    (:data:`PREFLIGHT_TAG`), so the run's other step processes (each sets up this resource
    again) reuse it instead of asking the target again, and a failure reaches them at once: a
    file lock per run orders the step processes of one host, so only the first one asks.
    """
    if on_databricks_cluster():
        return  # the Dagster host verified the target before it launched this step
    run, instance = context.run, context.instance
    if run is None or instance is None:
        return  # resources built outside a run (the command line's own preflight calls verify itself)
    with _run_lock(run.run_id):
        stored = instance.get_run_by_id(run.run_id)
        tags = stored.tags if stored is not None else run.tags
        outcome = tags.get(PREFLIGHT_TAG)
        if outcome in (PREFLIGHT_OK, PREFLIGHT_REACHABLE):
            return
        if outcome == PREFLIGHT_FAILED:
            raise TargetNotWritable(
                description=f"{tags.get(PREFLIGHT_FAILURE_TAG, 'The target could not be verified.')} "
                "(The run's preflight failed in an earlier step; it is not asked again.)"
            )
        tables = tables_written(run, instance)
        started = time.monotonic()
        try:
            report = verify(tables)
        except Exception as error:  # noqa: BLE001 - the target could not be asked: unreachable, credentials refused
            cause = getattr(error, "description", None) or str(error) or type(error).__name__
            message = f"Nothing was generated: the target could not be verified. {' '.join(cause.split())}"
            _record(instance, run.run_id, PREFLIGHT_FAILED, message)
            raise TargetNotWritable(description=message) from None
        elapsed = time.monotonic() - started
        if not tables:
            _record(instance, run.run_id, PREFLIGHT_REACHABLE)
            if context.log is not None:
                context.log.info(
                    f"The target {report.location} answered in {elapsed:.1f}s (a run of checks: "
                    "its permission checks report the privileges)"
                )
            return
        if context.log is not None:
            context.log.info(f"{report.describe()}\n(verified in {elapsed:.1f}s, once for this run)")
        if not report.ok:
            message = f"Nothing was generated: the target cannot take this run's tables.\n{report.describe()}"
            _record(instance, run.run_id, PREFLIGHT_FAILED, " ".join(message.split()))
            raise TargetNotWritable(
                description=message,
                metadata={"missing": dg.MetadataValue.md(report.markdown()), "location": report.location},
            )
        _record(instance, run.run_id, PREFLIGHT_OK)


def _record(instance: dg.DagsterInstance, run_id: str, outcome: str, failure: str | None = None) -> None:
    tags = {PREFLIGHT_TAG: outcome}
    if failure is not None:
        tags[PREFLIGHT_FAILURE_TAG] = failure
    instance.add_run_tags(run_id, tags)


@contextmanager
def _run_lock(run_id: str) -> Iterator[None]:
    """An exclusive lock for ``run_id`` among the processes of this host (the run's step processes)."""
    directory = Path(tempfile.gettempdir()) / "identity_graph_preflight"
    directory.mkdir(exist_ok=True)
    with open(directory / f"{run_id}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
