"""The shared small graph the end-to-end tests run on: its run config, resources and readers."""

import os
from pathlib import Path

import dagster as dg
from dagster_pyspark import LazyPySparkResource

from identity_graph import model
from identity_graph.model.vocabularies import NON_CLICKABLE_CHANNELS
from identity_graph.resources.catalog import CatalogAccess
from identity_graph.resources.databricks import STEP_LAUNCHER
from identity_graph.resources.delta_io_manager import DeltaIOManager
from identity_graph.resources.location import TableLocation
from identity_graph.resources.settings import GenerationSettings
from identity_graph_tests.support.spark import TEST_SPARK_CONFIG

ROOT = Path(__file__).resolve().parents[2]
TABLES = list(model.TABLE_NAMES)
#: campaigns and everything downstream of it: the campaign tables and the measurement truth drawn from them.
CAMPAIGN_FAMILY = {t.name for t in model.TABLES if t.family == "campaigns"} | {"conversion_truth", "campaign_truth"}
END_DATE, DAYS = "2026-10-31", 5
FIRST_DAY = "2026-10-27"
RUN_CONFIG = {
    "ops": {
        "households": {"config": {"num_households": 400}},
        "campaigns": {"config": {"num_campaigns": 6}},
        # Generous rates (means over the audience, so a top-decile person's stay below 1) so that a graph
        # this small still has responses, conversions to attribute and campaigns that cause some.
        "response_events": {
            "config": {
                "response_rates": {
                    **{
                        c: {"click": 0.16, "engagement": 0.12, "visit": 0.12}
                        for c in ("email", "social", "display", "video")
                    },
                    **{c: {"visit": 0.25} for c in NON_CLICKABLE_CHANNELS},
                },
                "effect_median": 0.5,
                "zero_effect_share": 0.2,
            }
        },
        "audience_truth": {"config": {"organic_daily_rate": 0.05}},
    },
    # The window is the run's days (RANGE); days is also the window's length.
    "resources": {"generation": {"config": {"days": DAYS}}},
}
#: Tags the shared graph's run: tests find its check results by it.
SHARED_GRAPH_TAG = {"identity_graph/test": "shared_graph"}
RANGE = {"dagster/asset_partition_range_start": FIRST_DAY, "dagster/asset_partition_range_end": END_DATE}


def local_catalog(warehouse, catalog: str = "main", schema: str = "identity_graph") -> CatalogAccess:
    """The local target's catalog with its tables under ``warehouse``."""
    return CatalogAccess(location=TableLocation("local", str(warehouse), catalog, schema))


def project_resources(warehouse, partitions: int = 2) -> dict:
    """The project's resources on the test Spark session, writing under ``warehouse``."""
    spark = LazyPySparkResource(spark_config=TEST_SPARK_CONFIG)
    catalog = local_catalog(warehouse)
    return {
        "spark": spark,
        STEP_LAUNCHER: dg.ResourceDefinition.none_resource(),
        "generation": GenerationSettings(input_partitions=partitions),
        "catalog": catalog,
        "io_manager": DeltaIOManager(spark=spark, catalog=catalog),
    }


def path(warehouse, table) -> str:
    return os.path.join(warehouse, "main", "identity_graph", table)


def read(spark, warehouse, table, version=None):
    reader = spark.read.format("delta")
    if version is not None:
        reader = reader.option("versionAsOf", version)
    return reader.load(path(warehouse, table))


def versions(spark, warehouse, tables=TABLES) -> dict[str, int]:
    """The current Delta version of each table."""
    return {t: spark.sql(f"DESCRIBE HISTORY delta.`{path(warehouse, t)}` LIMIT 1").first()["version"] for t in tables}
