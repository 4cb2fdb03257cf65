"""The campaign family: campaigns → campaign_assignments → campaign_exposures (daily) → response_events (daily)
→ outcome_metrics; campaign_exposures → campaign_delivery."""

import datetime as dt

import dagster as dg
from dagster_pyspark import LazyPySparkResource
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from identity_graph.assets import requested, stored_days, table_asset
from identity_graph.assets.config import CampaignsConfig, OutcomesConfig, ResponsesConfig
from identity_graph.generation.campaigns import (
    generate_campaign_assignments,
    generate_campaign_delivery,
    generate_campaign_exposures,
    generate_campaigns,
    generate_outcome_metrics,
)
from identity_graph.generation.conversions import generate_response_events
from identity_graph.model import EVENT_DATE
from identity_graph.partitions import MAX_ATTRIBUTION_DAYS, exposures_for_responses, partition_days
from identity_graph.resources.catalog import CatalogAccess
from identity_graph.resources.databricks import StepLauncherParam
from identity_graph.resources.settings import GenerationSettings


@table_asset("campaigns")
def campaigns(
    context: dg.AssetExecutionContext,
    config: CampaignsConfig,
    spark: LazyPySparkResource,
    step_launcher: StepLauncherParam,
    generation: GenerationSettings,
    catalog: CatalogAccess,
) -> DataFrame:
    """Campaigns: advertiser, flight dates overlapping the run's window, target segments,
    channels, goal, and the reach, frequency cap, CPM and pacing their exposures follow."""
    params, config = requested(context, generation, catalog, spark, config)
    context.log.info(
        f"Generating {config.num_campaigns} campaigns with flights overlapping the {params.days} days ending "
        f"{params.end_date}, {config.duration_min_days}–{config.duration_max_days} days long (seed {params.seed})"
    )
    return generate_campaigns(spark.spark_session, config, params)


@table_asset("campaign_assignments")
def campaign_assignments(
    context: dg.AssetExecutionContext,
    spark: LazyPySparkResource,
    step_launcher: StepLauncherParam,
    generation: GenerationSettings,
    catalog: CatalogAccess,
    campaigns: DataFrame,
    audience_attributes: DataFrame,
) -> DataFrame:
    """Campaign assignments: each campaign's eligible audience (the people whose primary
    segment it targets) randomised into a treatment group and a holdout group of the
    campaign's holdout_share, which it never exposes: the randomised experiment behind a
    lift study."""
    params, _ = requested(context, generation, catalog, spark)
    context.log.info(
        f"Assigning each stored campaign's eligible audience to treatment or holdout at its holdout_share "
        f"(seed {params.seed})"
    )
    return generate_campaign_assignments(spark.spark_session, campaigns, audience_attributes, params)


@table_asset("campaign_exposures")
def campaign_exposures(
    context: dg.AssetExecutionContext,
    spark: LazyPySparkResource,
    step_launcher: StepLauncherParam,
    generation: GenerationSettings,
    catalog: CatalogAccess,
    campaigns: DataFrame,
    campaign_assignments: DataFrame,
    identity_mappings: DataFrame,
) -> DataFrame:
    """Campaign exposures: impressions of each campaign on its treatment group (never its
    holdout) at the campaign's reach, within its dates and channels, capped in frequency,
    costed by CPM; each served on an identifier of the channel live at the time, or marked
    not addressable when the person holds none; partitioned by event_date."""
    params, _ = requested(context, generation, catalog, spark)
    days = partition_days(context.partition_time_window)
    context.log.info(
        f"Generating exposures for {len(days)} day(s): {days[0]} … {days[-1]}, each stored campaign on its treatment "
        f"group (seed {params.seed})"
    )
    return generate_campaign_exposures(
        spark.spark_session, campaigns, campaign_assignments, identity_mappings, params, days
    )


@table_asset(
    "response_events",
    # Read by the step itself (stored_days): a run of its checks alone has no days to map.
    ins={"campaign_exposures": dg.AssetIn(dagster_type=dg.Nothing, partition_mapping=exposures_for_responses)},
)
def response_events(
    context: dg.AssetExecutionContext,
    config: ResponsesConfig,
    spark: LazyPySparkResource,
    step_launcher: StepLauncherParam,
    generation: GenerationSettings,
    catalog: CatalogAccess,
    campaigns: DataFrame,
    audience_attributes: DataFrame,
    audience_truth: DataFrame,
    identity_mappings: DataFrame,
) -> DataFrame:
    """Response events: clicks, engagements and visits following an addressable exposure
    within the attribution window at its channel's rates (CTV and audio are never clicked),
    observed on its identifier while that is live, more likely the higher the person's
    propensity to convert; and conversions — each person's own at their latent rate, plus
    those campaigns cause by their effect, frequency and channel, worth more the nearer the
    campaign's goal is to a sale — observed on a live identifier and linked to the last
    exposure on it, if any; partitioned by the response's event_date (reading exposures up to
    7 days earlier)."""
    params, config = requested(context, generation, catalog, spark, config)
    days = partition_days(context.partition_time_window)
    context.log.info(
        f"Generating responses for {len(days)} day(s): {days[0]} … {days[-1]} from the exposures of "
        f"{days[0] - dt.timedelta(days=MAX_ATTRIBUTION_DAYS)} … {days[-1]}, response rates {config.response_rates}, "
        f"attribution window {params.attribution_window_hours} h (seed {params.seed})"
    )
    return generate_response_events(
        spark.spark_session,
        stored_days(context, catalog, spark, "campaign_exposures", MAX_ATTRIBUTION_DAYS),
        campaigns,
        audience_attributes,
        audience_truth,
        identity_mappings,
        config,
        params,
        days,
    )


@table_asset("outcome_metrics", domain="measurement")
def outcome_metrics(
    context: dg.AssetExecutionContext,
    config: OutcomesConfig,
    spark: LazyPySparkResource,
    step_launcher: StepLauncherParam,
    generation: GenerationSettings,
    catalog: CatalogAccess,
    response_events: DataFrame,
    campaign_exposures: DataFrame,
) -> DataFrame:
    """Outcome metrics: each conversion in the run's window attributed to its touches (the
    person's exposures to every campaign in the attribution window before it) under
    first-touch, last-touch, linear and time-decay models (weights sum to 1 per conversion
    and model), with revenue and an engagement score per touch."""
    params, config = requested(context, generation, catalog, spark, config)
    exposures_from = params.window_start - dt.timedelta(days=MAX_ATTRIBUTION_DAYS)
    context.log.info(
        f"Attributing conversions of {params.window_start} … {params.end_date} with {config.attribution_models} "
        f"to the exposures from {exposures_from} (window {params.attribution_window_hours} h, time-decay half-life "
        f"{config.time_decay_half_life_hours} h)"
    )
    responses = response_events.where(F.col(EVENT_DATE).between(params.window_start, params.end_date))
    exposures = campaign_exposures.where(F.col(EVENT_DATE).between(exposures_from, params.end_date))
    return generate_outcome_metrics(spark.spark_session, responses, exposures, config, params)


@table_asset("campaign_delivery")
def campaign_delivery(
    context: dg.AssetExecutionContext,
    spark: LazyPySparkResource,
    step_launcher: StepLauncherParam,
    generation: GenerationSettings,
    catalog: CatalogAccess,
    campaigns: DataFrame,
    campaign_exposures: DataFrame,
) -> DataFrame:
    """Campaign delivery: each campaign's budget — planned impressions × CPM, scaled to the
    audience the graph has — and, over its flight inside the window, the budget pro-rated to
    those days, the impressions served and their spend, which never exceeds it and reaches the
    campaign's pacing_share of it."""
    params, _ = requested(context, generation, catalog, spark)
    context.log.info(
        f"Sizing each stored campaign's budget and delivery over {params.window_start} … {params.end_date} "
        f"(seed {params.seed})"
    )
    window = F.col(EVENT_DATE).between(params.window_start, params.end_date)
    return generate_campaign_delivery(spark.spark_session, campaigns, campaign_exposures.where(window), params)


ASSETS = [campaigns, campaign_assignments, campaign_exposures, response_events, outcome_metrics, campaign_delivery]
