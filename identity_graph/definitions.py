"""The one Definitions object: assets, checks, jobs and resources for the selected runtime target."""

from __future__ import annotations

import dagster as dg

from identity_graph.assets.campaigns import ASSETS as CAMPAIGN_ASSETS
from identity_graph.assets.engagement import ASSETS as ENGAGEMENT_ASSETS
from identity_graph.assets.identity import ASSETS as IDENTITY_ASSETS
from identity_graph.checks.asset_checks import ASSET_CHECKS, PERMISSIONS_CHECK
from identity_graph.maintenance import maintenance_job, maintenance_schedule
from identity_graph.resources.catalog import CatalogAccess
from identity_graph.resources.databricks import STEP_LAUNCHER
from identity_graph.resources.delta_io_manager import DeltaIOManager
from identity_graph.resources.settings import GenerationSettings
from identity_graph.resources.spark import local_spark_resource
from identity_graph.resources.targets import TargetSettings

ALL_ASSETS = [*IDENTITY_ASSETS, *ENGAGEMENT_ASSETS, *CAMPAIGN_ASSETS]
GENERATE_JOB = "generate_identity_graph"
CHECK_JOB = "check_identity_graph"
CHECK_TARGET_JOB = "check_target"


def build_definitions(target: TargetSettings) -> dg.Definitions:
    """Definitions for ``target``: local runs execute in-process on one Spark session."""
    spark = local_spark_resource(target.spark_master, extra=target.spark_conf, remote=target.spark_remote)
    permission_checks = [key for c in ASSET_CHECKS for key in c.check_keys if key.name == PERMISSIONS_CHECK]
    return dg.Definitions(
        assets=ALL_ASSETS,
        asset_checks=ASSET_CHECKS,
        jobs=[
            dg.define_asset_job(
                GENERATE_JOB,
                selection=dg.AssetSelection.assets(*ALL_ASSETS),
                description="Generate the identity graph (or the part selected at launch) into the target catalog, "
                "then check it. The target's permissions are verified before anything is generated.",
            ),
            dg.define_asset_job(
                CHECK_JOB,
                selection=dg.AssetSelection.all_asset_checks(),
                description="Run every asset check against the stored tables, without regenerating them.",
            ),
            dg.define_asset_job(
                CHECK_TARGET_JOB,
                selection=dg.AssetSelection.checks(*permission_checks),
                description="Verify the target catalog's permissions for every table, without touching data.",
            ),
            maintenance_job,
        ],
        schedules=[maintenance_schedule],
        resources={
            "spark": spark,
            # Locally every step runs in this process; the databricks target puts its step launcher here.
            STEP_LAUNCHER: dg.ResourceDefinition.none_resource(),
            "generation": GenerationSettings(),
            "catalog": CatalogAccess(
                target=target.target, warehouse=target.warehouse, catalog=target.catalog, schema_name=target.schema
            ),
            "io_manager": DeltaIOManager(
                spark=spark, warehouse=target.warehouse, catalog=target.catalog, schema_name=target.schema
            ),
        },
        executor=dg.in_process_executor,
    )


defs = build_definitions(TargetSettings.from_env())
