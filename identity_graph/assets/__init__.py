"""Thin asset wrappers: read config, call generation, return a DataFrame for the IO manager."""

import dagster as dg

from identity_graph.generation.common import RunParameters
from identity_graph.partitions import EVENT_DATE
from identity_graph.resources.settings import GenerationSettings

#: Every asset is computed by Spark and stored as Delta.
KINDS = {"spark", "delta"}
OWNERS = ["team:identity-graph"]
#: Metadata of the daily event tables: the IO manager replaces days on this column.
EVENT_TABLE_METADATA = {"partition_expr": EVENT_DATE, "partition_columns": [EVENT_DATE]}


def requested(context: dg.AssetExecutionContext, generation: GenerationSettings, config: dg.Config | None = None) -> RunParameters:
    """The run's generation parameters, also recorded with the asset's config as materialisation
    metadata: the asset checks compare the stored table with what was asked for."""
    settings = {"seed": generation.seed, "end_date": generation.end_date, "days": generation.days}
    metadata: dict[str, dg.RawMetadataValue] = {"generation": dg.MetadataValue.json(settings)}
    if config is not None:
        metadata["config"] = dg.MetadataValue.json(config.model_dump())
    context.add_output_metadata(metadata)
    return generation.parameters()
