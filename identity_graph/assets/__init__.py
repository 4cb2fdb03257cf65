"""Thin asset wrappers: read config, call generation, return a DataFrame for the IO manager.

Everything an asset's definition says about its table (group, keys, partitioning,
clustering, columns) comes from the model through :func:`table_asset`.
"""

from typing import Any

import dagster as dg

from identity_graph.config import RunParameters
from identity_graph.model import Table, table
from identity_graph.partitions import daily_partitions
from identity_graph.resources.settings import GenerationSettings

#: Every asset is computed by Spark and stored as Delta.
KINDS = {"spark", "delta"}
OWNERS = ["team:identity-graph"]


def column_schema(declared: Table) -> dg.TableSchema:
    """The model's columns as Dagster's column schema: the asset page shows them before the first run."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=c.name,
                type=c.type_name,
                description=c.description,
                constraints=dg.TableColumnConstraints(nullable=c.nullable, unique=c.name == declared.primary_key),
            )
            for c in declared.columns
        ]
    )


def table_metadata(declared: Table) -> dict[str, Any]:
    """Definition metadata of a table's asset: keys, clustering, partition column and columns.

    The IO manager partitions and replaces days by ``partition_expr``; table maintenance
    Z-orders by ``zorder_columns``.
    """
    metadata: dict[str, Any] = {
        "primary_key": [declared.primary_key],
        "zorder_columns": list(declared.clustering),
        "dagster/column_schema": column_schema(declared),
    }
    if declared.partition_column:
        metadata.update(partition_expr=declared.partition_column, partition_columns=[declared.partition_column])
    return metadata


def table_asset(name: str, *, domain: str | None = None, pii: bool = False, **kwargs: Any) -> Any:
    """``@dg.asset`` for the model's table ``name``: its family as group, its metadata, and
    daily partitions (written in one run per range) when the model partitions it."""
    declared = table(name)
    tags = {"domain": domain or declared.family, **({"pii": "synthetic"} if pii else {})}
    if declared.partition_column:
        kwargs.setdefault("partitions_def", daily_partitions)
        kwargs.setdefault("backfill_policy", dg.BackfillPolicy.single_run())
    return dg.asset(
        name=name,
        group_name=declared.family,
        kinds=KINDS,
        owners=OWNERS,
        tags=tags,
        metadata=table_metadata(declared),
        **kwargs,
    )


def requested(
    context: dg.AssetExecutionContext, generation: GenerationSettings, config: dg.Config | None = None
) -> RunParameters:
    """The run's generation parameters, also recorded with the asset's config as materialisation
    metadata: the asset checks compare the stored table with what was asked for."""
    settings = {
        "seed": generation.seed,
        "end_date": generation.end_date,
        "days": generation.days,
        "attribution_window_hours": generation.attribution_window_hours,
    }
    metadata: dict[str, dg.RawMetadataValue] = {"generation": dg.MetadataValue.json(settings)}
    if config is not None:
        metadata["config"] = dg.MetadataValue.json(config.model_dump())
    context.add_output_metadata(metadata)
    return generation.parameters()
