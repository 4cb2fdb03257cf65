"""The engagement family: content_engagements (daily) → viewership_patterns → audience_attributes."""

import dagster as dg
from dagster_pyspark import LazyPySparkResource
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from identity_graph.assets import requested, table_asset
from identity_graph.assets.config import AudienceConfig, EngagementConfig
from identity_graph.generation.engagement import (
    generate_audience_attributes,
    generate_content_engagements,
    generate_viewership_patterns,
)
from identity_graph.model import EVENT_DATE
from identity_graph.partitions import partition_days
from identity_graph.resources.catalog import CatalogAccess
from identity_graph.resources.databricks import StepLauncherParam
from identity_graph.resources.settings import GenerationSettings


@table_asset("content_engagements")
def content_engagements(
    context: dg.AssetExecutionContext,
    config: EngagementConfig,
    spark: LazyPySparkResource,
    step_launcher: StepLauncherParam,
    generation: GenerationSettings,
    catalog: CatalogAccess,
    identity_mappings: DataFrame,
    audience_truth: DataFrame,
) -> DataFrame:
    """Content engagements: one row per view, click, share, like or comment, partitioned by
    event_date, each observed on one of the person's device identifiers (mobile ad id, cookie,
    device id, CTV id) live at the time. Activity per person is heavy-tailed (power law); time
    of day and day of week follow the configured pattern; the person's latent persona tilts
    their favourite category and primary device, and churners stop engaging at churned_at.
    A run over several days writes them in one Spark job."""
    params, config = requested(context, generation, catalog, spark, config)
    days = partition_days(context.partition_time_window)
    context.log.info(
        f"Generating engagements for {len(days)} day(s): {days[0]} … {days[-1]} ({config.temporal_pattern} pattern, "
        f"{config.mean_events_per_day} events per person-day with a live device identifier on average, power law exponent {config.power_law_exponent}, "
        f"seed {params.seed})"
    )
    return generate_content_engagements(spark.spark_session, identity_mappings, audience_truth, config, params, days)


@table_asset("viewership_patterns")
def viewership_patterns(
    context: dg.AssetExecutionContext,
    spark: LazyPySparkResource,
    step_launcher: StepLauncherParam,
    generation: GenerationSettings,
    catalog: CatalogAccess,
    content_engagements: DataFrame,
) -> DataFrame:
    """Viewership patterns: per individual over the run's window — total engagements, daily
    frequency, last engagement, top-3 categories, preferred device, peak hour."""
    params, _ = requested(context, generation, catalog, spark)
    context.log.info(
        f"Summarising engagements of {params.window_start} … {params.end_date} ({params.days} days) per individual"
    )
    window = content_engagements.where(F.col(EVENT_DATE).between(params.window_start, params.end_date))
    return generate_viewership_patterns(spark.spark_session, window, params)


@table_asset("audience_attributes", domain="audience")
def audience_attributes(
    context: dg.AssetExecutionContext,
    config: AudienceConfig,
    spark: LazyPySparkResource,
    step_launcher: StepLauncherParam,
    generation: GenerationSettings,
    catalog: CatalogAccess,
    viewership_patterns: DataFrame,
    individuals: DataFrame,
) -> DataFrame:
    """Audience attributes: segment (from the highest content affinity), secondary segments,
    affinity scores, behavioural class (frequency thresholds, churn), propensity to convert
    and lifetime value estimate."""
    params, config = requested(context, generation, catalog, spark, config)
    context.log.info(
        f"Deriving segments, affinities and propensities from viewership patterns: heavy ≥ {config.heavy_user_threshold}, "
        f"moderate ≥ {config.moderate_user_threshold} events/day, churned after {config.churn_inactive_days} inactive days"
    )
    return generate_audience_attributes(spark.spark_session, viewership_patterns, individuals, config, params)


ASSETS = [content_engagements, viewership_patterns, audience_attributes]
