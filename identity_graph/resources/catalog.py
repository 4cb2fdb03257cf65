"""The target catalog as a resource: where tables go, and whether this run may write them.

At the start of every run that writes tables it verifies the target (the preflight): a
run without the privileges it needs fails before the first table is generated, listing
everything missing and the statements that grant it. The ``target_permissions`` asset
checks run the same verification and report it per table.
"""


import dagster as dg
from pydantic import Field

from identity_graph.resources.permissions import PermissionReport, verify_local

#: Every table of the graph, in dependency order.
ALL_TABLES = (
    "households",
    "individuals",
    "identity_mappings",
    "content_engagements",
    "viewership_patterns",
    "audience_attributes",
    "campaigns",
    "campaign_exposures",
    "response_events",
    "outcome_metrics",
)


class TargetNotWritable(dg.Failure):
    """The target catalog is missing privileges (or objects) this run needs."""


class CatalogAccess(dg.ConfigurableResource):
    """The target catalog: its location, and the verification that this run may write there."""

    target: str = Field(default="local", description="Runtime target: 'local' (a Delta warehouse on disk).")
    warehouse: str = Field(default="warehouse", description="Root directory of the local Delta warehouse.")
    catalog: str = Field(default="main", description="Catalog: the first level of each table's name.")
    schema_name: str = Field(default="identity_graph", description="Schema: the second level of each table's name.")
    preflight: bool = Field(
        default=True, description="Verify the target at the start of every run that writes tables, and fail the run at once if it falls short."
    )

    def verify(self, tables: tuple[str, ...] | list[str] = ALL_TABLES) -> PermissionReport:
        """What this identity may and may not do on the target, for writing ``tables``."""
        return verify_local(self.warehouse, self.catalog, self.schema_name, list(tables))

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if not self.preflight:
            return
        tables = tables_written_by_run(context)
        if not tables:
            return
        report = self.verify(tables)
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
    run, instance = context.dagster_run, context.instance
    if run is None or instance is None or not run.execution_plan_snapshot_id:
        return []
    plan = instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id)
    steps = {step.key for step in plan.steps}
    if run.step_keys_to_execute is not None:
        steps &= set(run.step_keys_to_execute)
    return [table for table in ALL_TABLES if table in steps]
