"""The target catalog: whether this identity may write the graph's tables there.

:class:`CatalogAccess` holds the tables' :class:`TableLocation` and the credentials to ask
the target. Its preflight runs once when a run that writes tables starts (the Delta IO
manager depends on it): a run without the privileges it needs fails before the first
table is generated, listing everything missing and the statements that grant it. The
``target_permissions`` asset checks run the same verification and report it per table;
the command line runs it before it launches a run.
"""

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import dagster as dg
from pydantic import Field

from identity_graph.model import TABLE_NAMES
from identity_graph.resources.databricks import on_databricks_cluster
from identity_graph.resources.location import TableLocation
from identity_graph.resources.permissions import (
    PermissionReport,
    UnityCatalogError,
    verify_local,
    verify_unity_catalog,
    workspace_client,
)

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
            message = str(error)
            for secret in (self.databricks_token, self.databricks_client_secret):
                if secret:
                    message = message.replace(secret, "***")
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


#: Runs this process has verified the target for: the resource is set up once per step process
#: where it is required (the IO manager's copy and the permission checks' copy), the preflight once.
_VERIFIED_RUNS: set[str] = set()


def preflight(context: dg.InitResourceContext, verify: Callable[[list[str]], PermissionReport]) -> None:
    """Verify the target for the tables this run writes, once per run and process; raise
    :class:`TargetNotWritable` listing what is missing."""
    if on_databricks_cluster():
        return  # the Dagster host verified the target before it launched this step
    tables = tables_written_by_run(context)
    run_id = context.run.run_id if context.run is not None else None
    if not tables or run_id in _VERIFIED_RUNS:
        return
    report = verify(tables)
    if context.log is not None:
        context.log.info(report.describe())
    if report.ok and run_id is not None:
        _VERIFIED_RUNS.add(run_id)
    if not report.ok:
        raise TargetNotWritable(
            description=f"Nothing was generated: the target cannot take this run's tables.\n{report.describe()}",
            metadata={"missing": dg.MetadataValue.md(report.markdown()), "location": report.location},
        )


def tables_written_by_run(context: dg.InitResourceContext) -> list[str]:
    """The tables the run's asset steps will write: its execution plan's steps named after a table.

    A run of checks alone writes nothing, so it needs no preflight (its permission checks
    report instead).
    """
    run, instance = context.run, context.instance
    if run is None or instance is None or not run.execution_plan_snapshot_id:
        return []
    plan = instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id)
    steps = {step.key for step in plan.steps}
    if run.step_keys_to_execute is not None:
        steps &= set(run.step_keys_to_execute)
    return [table for table in TABLE_NAMES if table in steps]
