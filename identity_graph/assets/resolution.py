"""Identity resolution: observed records, their truth, and the baseline resolver scored against it."""

import datetime as dt

import dagster as dg
from dagster_pyspark import LazyPySparkResource
from pyspark.sql import DataFrame

from identity_graph import resolution
from identity_graph.assets import requested, table_asset
from identity_graph.assets.config import ObservationsConfig
from identity_graph.generation.common import conform
from identity_graph.generation.observations import generate_identity_observations, generate_identity_truth
from identity_graph.model.tables import IDENTITY_OBSERVATIONS, IDENTITY_TRUTH, RESOLUTION_BASELINE
from identity_graph.resources.catalog import CatalogAccess
from identity_graph.resources.databricks import StepLauncherParam
from identity_graph.resources.settings import GenerationSettings


@table_asset("identity_observations", pii=True)
def identity_observations(
    context: dg.AssetExecutionContext,
    config: ObservationsConfig,
    spark: LazyPySparkResource,
    step_launcher: StepLauncherParam,
    generation: GenerationSettings,
    catalog: CatalogAccess,
    households: DataFrame,
    individuals: DataFrame,
    identity_mappings: DataFrame,
) -> DataFrame:
    """Identity observations: the records CRM, web login, mobile app, CTV app and data-partner
    sources hold about each person, each source with its own fields, with realistic noise
    (typos, nicknames, old addresses, family-shared and recycled identifiers, reset cookies and
    MAIDs, duplicates) and no true key — the input an identity resolver is tested on."""
    params, config = requested(context, generation, catalog, spark, config)
    context.log.info(
        f"Generating observations: {config.records_per_person_mean} records per person on average, "
        f"sources {config.source_weights} (seed {params.seed})"
    )
    return generate_identity_observations(
        spark.spark_session, households, individuals, identity_mappings, config, params
    )


@table_asset("identity_truth", pii=True)
def identity_truth(
    context: dg.AssetExecutionContext,
    spark: LazyPySparkResource,
    step_launcher: StepLauncherParam,
    catalog: CatalogAccess,
    generation: GenerationSettings,
    identity_observations: DataFrame,
    households: DataFrame,
    individuals: DataFrame,
    identity_mappings: DataFrame,
) -> DataFrame:
    """Identity truth: whose each identity_observations record is (individual and household)
    and which noise it carries — the answer key to score a resolver against, kept apart from
    what the resolver sees. Drawn from the same hashes as the stored observations, with the
    config recorded in their Delta commit."""
    record = catalog.location.recorded(spark.spark_session, IDENTITY_OBSERVATIONS.name)
    if not record or not record.get("generation"):
        raise dg.Failure(
            description="identity_truth is drawn with the config identity_observations was generated with, and "
            "the stored identity_observations records none: materialise identity_observations first."
        )
    settings = record["generation"]
    config = ObservationsConfig.from_recorded(record.get("config"))
    params = generation.parameters(dt.date.fromisoformat(settings["end_date"]), settings)
    context.add_output_metadata(
        {"generation": dg.MetadataValue.json(settings), "config": dg.MetadataValue.json(config.model_dump())},
        output_name=IDENTITY_TRUTH.name,
    )
    return generate_identity_truth(spark.spark_session, households, individuals, identity_mappings, config, params)


@table_asset("resolution_baseline")
def resolution_baseline(
    context: dg.AssetExecutionContext,
    spark: LazyPySparkResource,
    step_launcher: StepLauncherParam,
    generation: GenerationSettings,
    catalog: CatalogAccess,
    identity_observations: DataFrame,
    identity_truth: DataFrame,
) -> DataFrame:
    """Resolution baseline: a reference resolver's clusters — records linked by exact hashed
    email, hashed phone or MAID, then connected components — with its pairwise precision,
    recall and F1 and B-cubed scores against identity_truth on the materialisation. The bar a
    resolver under test should clear."""
    # No settings of its own; the graph's are recorded with the table like every other's.
    requested(context, generation, catalog, spark)
    clusters, rounds = resolution.baseline_clusters(identity_observations)
    scores = resolution.score(clusters, identity_truth)
    context.log.info(
        f"Baseline resolver: {scores.predicted_clusters:,} clusters for {scores.true_identities:,} people "
        f"({rounds} rounds); pairwise precision {scores.pairwise_precision:.3f}, recall "
        f"{scores.pairwise_recall:.3f}, F1 {scores.pairwise_f1:.3f}; B-cubed F1 {scores.bcubed_f1:.3f}"
    )
    context.add_output_metadata(
        {**scores.as_dict(), "propagation_rounds": rounds}, output_name=RESOLUTION_BASELINE.name
    )
    return conform(clusters, RESOLUTION_BASELINE)


ASSETS = [identity_observations, identity_truth, resolution_baseline]
