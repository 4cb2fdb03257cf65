"""The one Definitions object: assets, jobs and resources for the selected runtime target."""

from __future__ import annotations

import dagster as dg

from identity_graph.assets.campaigns import ASSETS as CAMPAIGN_ASSETS
from identity_graph.assets.engagement import ASSETS as ENGAGEMENT_ASSETS
from identity_graph.assets.identity import ASSETS as IDENTITY_ASSETS
from identity_graph.resources.delta_io_manager import DeltaIOManager
from identity_graph.resources.settings import GenerationSettings
from identity_graph.resources.spark import local_spark_resource
from identity_graph.resources.targets import TargetSettings

ALL_ASSETS = [*IDENTITY_ASSETS, *ENGAGEMENT_ASSETS, *CAMPAIGN_ASSETS]
GENERATE_JOB = "generate_identity_graph"


def build_definitions(target: TargetSettings) -> dg.Definitions:
    """Definitions for ``target``: local runs execute in-process on one Spark session."""
    spark = local_spark_resource(target.spark_master, extra=target.spark_conf)
    return dg.Definitions(
        assets=ALL_ASSETS,
        jobs=[
            dg.define_asset_job(
                GENERATE_JOB,
                selection=dg.AssetSelection.assets(*ALL_ASSETS),
                description="Generate the identity graph (or the part selected at launch) into the target catalog.",
            )
        ],
        resources={
            "spark": spark,
            "generation": GenerationSettings(),
            "io_manager": DeltaIOManager(
                spark=spark, warehouse=target.warehouse, catalog=target.catalog, schema_name=target.schema
            ),
        },
        executor=dg.in_process_executor,
    )


defs = build_definitions(TargetSettings.from_env())
