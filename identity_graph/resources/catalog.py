"""The target catalog: whether this identity may write the graph's tables there.

:func:`preflight` runs at the start of every run that writes tables (the Delta IO
manager calls it when it is set up): a run without the privileges it needs fails before
the first table is generated, listing everything missing and the statements that grant
it. The ``target_permissions`` asset checks run the same verification through
:class:`CatalogAccess` and report it per table.
"""

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import dagster as dg
from pydantic import Field

from identity_graph.resources.permissions import (
    PermissionReport,
    UnityCatalogError,
    quote_identifier,
    verify_local,
    verify_unity_catalog,
    workspace_client,
)

from identity_graph.model import TABLE_NAMES
from identity_graph.resources.databricks import on_databricks_cluster

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient
    from pyspark.sql import SparkSession



def local_table_path(warehouse: str, catalog: str, schema_name: str, table: str) -> str:
    """Where a table's files live on the local target: ``<absolute warehouse>/<catalog>/<schema>/<table>``."""
    return os.path.join(os.path.abspath(warehouse), catalog, schema_name, table)


class TargetNotWritable(dg.Failure):
    """The target catalog is missing privileges (or objects) this run needs."""


class CatalogAccess(dg.ConfigurableResource):
    """The target catalog: its location, and the verification that this identity may write there.

    ``local``: a Delta warehouse directory. ``databricks``: Unity Catalog through
    databricks-sdk, on ``databricks_host`` with ``databricks_token`` (pass it as
    ``dg.EnvVar("DATABRICKS_TOKEN")``: it is never logged or shown).
    """

    # default_factory, not default: given run config for some fields of this resource (in the
    # launchpad, say), Dagster fills the others from a plain default, discarding what the code
    # location set (the warehouse!), but keeps the code location's value for a factory field.
    # The credential fields hold EnvVars, which only resolve when set directly: they keep plain defaults.
    target: str = Field(default_factory=lambda: "local", description="Runtime target: 'local' (a Delta warehouse on disk) or 'databricks' (Unity Catalog).")
    warehouse: str = Field(default_factory=lambda: "warehouse", description="Root directory of the local Delta warehouse.")
    catalog: str = Field(default_factory=lambda: "main", description="Catalog: the first level of each table's name.")
    schema_name: str = Field(default_factory=lambda: "identity_graph", description="Schema: the second level of each table's name.")
    databricks_host: str | None = Field(default=None, description="Workspace URL (https://…), for the databricks target.")
    databricks_token: str | None = Field(default=None, description="Access token for the databricks target; set it from an EnvVar.")
    databricks_client_id: str | None = Field(default=None, description="Service principal's OAuth client id (instead of a token); from an EnvVar.")
    databricks_client_secret: str | None = Field(default=None, description="Service principal's OAuth client secret; from an EnvVar.")

    def table_path(self, table: str) -> str:
        """Where the table's files live on the local target (the Delta IO manager's location)."""
        return local_table_path(self.warehouse, self.catalog, self.schema_name, table)

    def table_identifier(self, table: str) -> str:
        """The table as Spark SQL names it: delta.`<path>` on the local target, `catalog`.`schema`.`table` on Unity Catalog."""
        if self.target == "databricks":
            return ".".join(quote_identifier(part) for part in (self.catalog, self.schema_name, table))
        return "delta." + quote_identifier(self.table_path(table))

    def is_stored(self, spark: "SparkSession", table: str) -> bool:
        """Whether the table has been written yet: its ``_delta_log`` locally, the table in Unity Catalog."""
        if self.target == "databricks":
            return spark.catalog.tableExists(self.table_identifier(table))
        return os.path.isdir(os.path.join(self.table_path(table), "_delta_log"))

    def workspace_client(self) -> "WorkspaceClient":
        """A databricks-sdk client for the workspace, with timeouts bounded for a preflight check."""
        if not self.databricks_host or not (self.databricks_token or (self.databricks_client_id and self.databricks_client_secret)):
            raise dg.Failure(
                description="The databricks target needs DATABRICKS_HOST and DATABRICKS_TOKEN (or DATABRICKS_CLIENT_ID and "
                "DATABRICKS_CLIENT_SECRET) to verify Unity Catalog privileges"
            )
        try:
            return workspace_client(
                self.databricks_host,
                self.databricks_token,
                client_id=self.databricks_client_id,
                client_secret=self.databricks_client_secret,
            )
        except Exception as error:  # the SDK resolves OAuth endpoints when the client is built
            message = str(error)
            for secret in (self.databricks_token, self.databricks_client_secret):
                if secret:
                    message = message.replace(secret, "***")
            raise UnityCatalogError(f"Cannot connect to Databricks at {self.databricks_host}: {type(error).__name__}: {message}") from None

    def verify(self, tables: Sequence[str] = TABLE_NAMES) -> PermissionReport:
        """What this identity may and may not do on the target, for writing ``tables``."""
        if self.target == "databricks":
            return verify_unity_catalog(self.workspace_client(), self.catalog, self.schema_name, list(tables))
        return verify_local(self.warehouse, self.catalog, self.schema_name, list(tables))


def preflight(context: dg.InitResourceContext, verify: Callable[[list[str]], PermissionReport]) -> None:
    """Verify the target for the tables this run writes; raise :class:`TargetNotWritable` listing what is missing."""
    if on_databricks_cluster():
        return  # the Dagster host verified the target before it launched this step
    tables = tables_written_by_run(context)
    if not tables:
        return
    report = verify(tables)
    if context.log is not None:
        context.log.info(report.describe())
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
