"""The measurement truth: who people really are, why each conversion happened, and what each
campaign truly caused — stored apart from the observed tables a method is given."""

import datetime as dt
from typing import Any

import dagster as dg
from dagster_pyspark import LazyPySparkResource
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from identity_graph.assets import requested, stored_days, table_asset, whole_graph
from identity_graph.assets.config import AudienceTruthConfig
from identity_graph.config import ResponsesConfig, RunParameters
from identity_graph.generation.conversions import (
    generate_audience_truth,
    generate_campaign_truth,
    generate_conversion_truth,
)
from identity_graph.model import EVENT_DATE
from identity_graph.model.tables import RESPONSE_EVENTS
from identity_graph.partitions import MAX_ATTRIBUTION_DAYS, exposures_for_responses, partition_days
from identity_graph.resources.catalog import CatalogAccess
from identity_graph.resources.databricks import StepLauncherParam
from identity_graph.resources.delta_io_manager import REPLACES_TABLE
from identity_graph.resources.settings import GenerationSettings


@table_asset("audience_truth")
def audience_truth(
    context: dg.AssetExecutionContext,
    config: AudienceTruthConfig,
    spark: LazyPySparkResource,
    step_launcher: StepLauncherParam,
    generation: GenerationSettings,
    catalog: CatalogAccess,
    individuals: DataFrame,
) -> DataFrame:
    """Audience truth: each person's latent persona (drawn by age band) and the daily rate at
    which they convert on their own, exposed or not — never observed; the answer a
    segmentation or conversion model is scored against."""
    params, config = requested(context, generation, catalog, spark, config)
    context.log.info(
        f"Drawing personas and organic conversion rates (mean {config.organic_daily_rate} per day for a persona of "
        f"factor 1, spread {config.organic_rate_sigma}; seed {params.seed})"
    )
    return generate_audience_truth(spark.spark_session, individuals, config, params)


def responses_recorded(
    context: dg.AssetExecutionContext,
    spark: LazyPySparkResource,
    catalog: CatalogAccess,
    generation: GenerationSettings,
) -> tuple[RunParameters, ResponsesConfig]:
    """The parameters and config response_events was generated with (its Delta commit's record):
    the truth is drawn from the same hashes with the same config."""
    record = catalog.location.recorded(spark.spark_session, RESPONSE_EVENTS.name)
    table = context.asset_key.path[-1]
    if not record or not record.get("generation"):
        raise dg.Failure(
            description=f"{table} is drawn with the config response_events was generated with, and the stored "
            "response_events records none: materialise response_events first."
        )
    settings = record["generation"]
    config = ResponsesConfig.from_recorded(record.get("config"))
    params = generation.parameters(dt.date.fromisoformat(settings["end_date"]), settings)
    metadata: dict[str, Any] = {
        "generation": dg.MetadataValue.json(settings),
        "config": dg.MetadataValue.json(config.model_dump()),
    }
    if whole_graph(context) and context.assets_def.partitions_def is not None:
        # A new graph: older days belong to the graph it replaces (as for every event table).
        metadata[REPLACES_TABLE] = True
    context.add_output_metadata(metadata, output_name=table)
    return params, config


@table_asset(
    "conversion_truth",
    ins={
        # Read by the step itself (stored_days): a run of its checks alone has no days to map.
        "campaign_exposures": dg.AssetIn(dagster_type=dg.Nothing, partition_mapping=exposures_for_responses),
        "response_events": dg.AssetIn(dagster_type=dg.Nothing),
    },
)
def conversion_truth(
    context: dg.AssetExecutionContext,
    spark: LazyPySparkResource,
    step_launcher: StepLauncherParam,
    generation: GenerationSettings,
    catalog: CatalogAccess,
    audience_attributes: DataFrame,
    audience_truth: DataFrame,
    identity_mappings: DataFrame,
) -> DataFrame:
    """Conversion truth: why each conversion in response_events happened — on the person's own
    (organic) or caused by a campaign's exposure (which one) — drawn from the same hashes and
    config as the stored responses; partitioned by the conversion's event_date. Score an
    attribution model against it."""
    params, config = responses_recorded(context, spark, catalog, generation)
    days = partition_days(context.partition_time_window)
    context.log.info(f"Recording why each conversion of {days[0]} … {days[-1]} happened (seed {params.seed})")
    return generate_conversion_truth(
        spark.spark_session,
        stored_days(context, catalog, spark, "campaign_exposures", MAX_ATTRIBUTION_DAYS),
        audience_attributes,
        audience_truth,
        identity_mappings,
        config,
        params,
        days,
    )


@table_asset("campaign_truth")
def campaign_truth(
    context: dg.AssetExecutionContext,
    spark: LazyPySparkResource,
    step_launcher: StepLauncherParam,
    generation: GenerationSettings,
    catalog: CatalogAccess,
    campaigns: DataFrame,
    campaign_assignments: DataFrame,
    audience_truth: DataFrame,
    campaign_exposures: DataFrame,
    identity_mappings: DataFrame,
    conversion_truth: DataFrame,
) -> DataFrame:
    """Campaign truth: each campaign's latent effect, its audience's baseline conversion rate,
    the true absolute and relative lift of assignment to treatment over its flight inside the
    window (what a treatment-vs-holdout estimate should recover), and the conversions it really
    caused. A lift study, MMM or attribution model is scored against it."""
    params, config = responses_recorded(context, spark, catalog, generation)
    context.log.info(
        f"Computing each campaign's true lift over {params.window_start} … {params.end_date} (seed {params.seed})"
    )
    window = F.col(EVENT_DATE).between(params.window_start, params.end_date)
    return generate_campaign_truth(
        spark.spark_session,
        campaigns,
        campaign_assignments,
        audience_truth,
        campaign_exposures.where(window),
        identity_mappings,
        conversion_truth.where(window),
        config,
        params,
    )


ASSETS = [audience_truth, conversion_truth, campaign_truth]
