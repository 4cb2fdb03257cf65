"""The project's Definitions, built for a runtime target: assets, checks, jobs, schedules and resources.

``identity_graph.definitions`` builds them for the target the environment selects; the
command line builds them for its own settings without importing that module.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_pyspark import LazyPySparkResource

from identity_graph.assets.campaigns import ASSETS as CAMPAIGN_ASSETS
from identity_graph.assets.engagement import ASSETS as ENGAGEMENT_ASSETS
from identity_graph.assets.identity import ASSETS as IDENTITY_ASSETS
from identity_graph.assets.measurement import ASSETS as MEASUREMENT_ASSETS
from identity_graph.assets.resolution import ASSETS as RESOLUTION_ASSETS
from identity_graph.checks.asset_checks import PERMISSIONS_CHECK
from identity_graph.maintenance import maintenance_job, maintenance_schedule
from identity_graph.resources.catalog import CatalogAccess
from identity_graph.resources.databricks import STEP_LAUNCHER, DatabricksSettings
from identity_graph.resources.delta_io_manager import DeltaIOManager
from identity_graph.resources.location import TableLocation
from identity_graph.resources.settings import GenerationSettings
from identity_graph.resources.spark import connect_spark_resource, local_spark_resource
from identity_graph.resources.targets import TargetSettings
from identity_graph.schedules import daily_refresh_job, daily_refresh_schedule

ALL_ASSETS = [*IDENTITY_ASSETS, *ENGAGEMENT_ASSETS, *CAMPAIGN_ASSETS, *MEASUREMENT_ASSETS, *RESOLUTION_ASSETS]
GENERATE_JOB = "generate_identity_graph"
CHECK_JOB = "check_identity_graph"
CHECK_TARGET_JOB = "check_target"


def located(assets: Sequence[Any], target: TargetSettings, location: TableLocation) -> Sequence[Any]:
    """``assets`` with where their tables live (``dagster/table_name``; ``dagster/uri`` on the local
    target) and their source code references, linked to the repository when ``git_url`` is set."""

    def locate(spec: dg.AssetSpec) -> dg.AssetSpec:
        table = spec.key.path[-1]
        metadata: dict[str, Any] = {"dagster/table_name": location.table_name(table)}
        if not location.managed:
            metadata["dagster/uri"] = Path(location.table_path(table)).as_uri()
        return spec.merge_attributes(metadata=metadata)

    assets = dg.map_asset_specs(locate, assets)
    if target.git_url:
        assets = dg.link_code_references_to_git(
            assets,
            git_url=target.git_url,
            git_branch=target.git_branch,
            file_path_mapping=dg.AnchorBasedFilePathMapping(
                local_file_anchor=Path(__file__).resolve().parent, file_anchor_path_in_repository="identity_graph/"
            ),
        )
    return assets


def asks_only_the_catalog(run: dg.DagsterRun) -> bool:
    """Whether ``run`` only verifies the target's permissions (the ``check_target``
    job, or a run selecting permission checks alone): it asks the workspace's API and reads no
    table, so its steps need no Spark and no cluster."""
    if run.job_name == CHECK_TARGET_JOB:
        return True
    checks = run.asset_check_selection
    return bool(checks) and not run.asset_selection and all(key.name == PERMISSIONS_CHECK for key in checks)


def build_definitions(target: TargetSettings) -> dg.Definitions:
    """Definitions for ``target``.

    ``local``: every step runs in this process on one lazily started Spark session (a
    local JVM, or a Spark Connect client). ``databricks``: tables are Unity Catalog managed
    tables; each asset step (and each check that reads tables) is shipped to a Databricks
    cluster by the step launcher, steps run in separate processes (the multiprocess
    executor) — or, with ``IDENTITY_GRAPH_SPARK_REMOTE`` set, every step runs in this
    process on a Spark Connect session of a Databricks cluster.
    """
    if target.target == "databricks":
        databricks = DatabricksSettings.from_env()
        if target.spark_remote:
            # Spark Connect to a Databricks cluster: every step runs here, its Spark on the cluster.
            spark: Any = connect_spark_resource()
            step_launcher: Any = dg.ResourceDefinition.none_resource()
            executor = dg.in_process_executor
        else:
            # On the cluster, the runtime's own session: no settings to pass.
            spark = LazyPySparkResource(spark_config={})
            step_launcher = databricks.step_launcher(target.environment(), stays_here=asks_only_the_catalog)
            executor = dg.multiprocess_executor
        # Secrets as EnvVars, resolved when the resource starts; a profile by name; the default
        # chain with nothing (databricks-sdk finds the credentials). The host may come from a profile.
        credentials: dict[str, Any] = {"databricks_host": databricks.host}
        if databricks.auth == "token":
            credentials["databricks_token"] = dg.EnvVar("DATABRICKS_TOKEN")
        elif databricks.auth == "oauth":
            credentials["databricks_client_id"] = dg.EnvVar("DATABRICKS_CLIENT_ID")
            credentials["databricks_client_secret"] = dg.EnvVar("DATABRICKS_CLIENT_SECRET")
        elif databricks.auth == "profile":
            credentials["databricks_profile"] = databricks.profile
            credentials["databricks_config_file"] = databricks.config_file
        # The asset pages and the graph show where the tables are computed.
        assets = dg.map_asset_specs(lambda spec: spec.merge_attributes(kinds={"databricks"}), ALL_ASSETS)
    else:
        spark = local_spark_resource(target.spark_master, extra=target.spark_conf, remote=target.spark_remote)
        # Every step runs in this process.
        step_launcher = dg.ResourceDefinition.none_resource()
        credentials = {}
        executor = dg.in_process_executor
        assets = ALL_ASSETS
    location = TableLocation(target.target, target.warehouse, target.catalog, target.schema)  # type: ignore[arg-type]
    catalog = CatalogAccess(location=location, **credentials)
    assets = located(assets, target, location)
    permission_checks = [key for a in ALL_ASSETS for key in a.check_keys if key.name == PERMISSIONS_CHECK]
    return dg.Definitions(
        assets=assets,
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
                # Its steps only ask the catalog's API (no Spark, no cluster run): one process is quickest.
                executor_def=dg.in_process_executor,
                description="Verify the target catalog's permissions for every table, without touching data.",
            ),
            maintenance_job,
            daily_refresh_job,
        ],
        schedules=[maintenance_schedule, daily_refresh_schedule],
        resources={
            "spark": spark,
            STEP_LAUNCHER: step_launcher,
            "generation": GenerationSettings(),
            "catalog": catalog,
            "io_manager": DeltaIOManager(spark=spark, catalog=catalog),
        },
        executor=executor,
    )
