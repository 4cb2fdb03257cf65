"""The identity core: households → individuals → identity_mappings."""

import dagster as dg
from dagster_pyspark import LazyPySparkResource
from pyspark.sql import DataFrame

from identity_graph.assets import requested, table_asset
from identity_graph.assets.config import DemographicsConfig, HouseholdsConfig, IdentifiersConfig
from identity_graph.generation import generate_households, generate_identity_mappings, generate_individuals
from identity_graph.resources.catalog import CatalogAccess
from identity_graph.resources.databricks import StepLauncherParam
from identity_graph.resources.settings import GenerationSettings


@table_asset("households")
def households(
    context: dg.AssetExecutionContext,
    config: HouseholdsConfig,
    spark: LazyPySparkResource,
    step_launcher: StepLauncherParam,
    generation: GenerationSettings,
    catalog: CatalogAccess,
) -> DataFrame:
    """Households: one row per household, with a consistent real US city/state/ZIP, income
    bracket, household size (normal, clipped to its range so the count is exact) and housing type."""
    params, config = requested(context, generation, catalog, spark, config)
    context.log.info(
        f"Generating {config.num_households:,} households (seed {params.seed}): household_size mean "
        f"{config.household_size_mean}, σ {config.household_size_stddev}, clipped to [{config.household_size_min}, {config.household_size_max}]"
    )
    return generate_households(spark.spark_session, config, params)


@table_asset("individuals", pii=True)
def individuals(
    context: dg.AssetExecutionContext,
    config: DemographicsConfig,
    spark: LazyPySparkResource,
    step_launcher: StepLauncherParam,
    generation: GenerationSettings,
    catalog: CatalogAccess,
    households: DataFrame,
) -> DataFrame:
    """Individuals: one row per adult, household_size of them per household, with names, age,
    gender, education, employment and income — income rising with age and education,
    students young and retirees old."""
    params, config = requested(context, generation, catalog, spark, config)
    context.log.info(
        f"Generating individuals: household_size members per stored household, ages {config.age_min}–{config.age_max}, "
        f"income withheld by {config.income_missing_rate:.0%} (seed {params.seed})"
    )
    return generate_individuals(spark.spark_session, households, config, params)


@table_asset("identity_mappings", pii=True)
def identity_mappings(
    context: dg.AssetExecutionContext,
    config: IdentifiersConfig,
    spark: LazyPySparkResource,
    step_launcher: StepLauncherParam,
    generation: GenerationSettings,
    catalog: CatalogAccess,
    individuals: DataFrame,
) -> DataFrame:
    """Identity mappings: each individual's cross-device identifiers (hashed emails and phones,
    cookie, mobile-ad, device and CTV ids), first/last seen and whether still active."""
    params, config = requested(context, generation, catalog, spark, config)
    context.log.info(
        f"Generating identifiers: {config.min_per_individual}–{config.max_per_individual} per individual, "
        f"mean {config.mean_per_individual}, active if seen in the last {config.active_window_days} days (seed {params.seed})"
    )
    return generate_identity_mappings(spark.spark_session, individuals, config, params)


ASSETS = [households, individuals, identity_mappings]
