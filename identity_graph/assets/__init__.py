"""Thin asset wrappers: read config, call generation, return a DataFrame for the IO manager.

Everything an asset's definition says about its table (group, keys, partitioning,
clustering, columns) comes from the model through :func:`table_asset`.
"""

import datetime as dt
import inspect
import json
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

import dagster as dg
from dagster_pyspark import LazyPySparkResource
from pyspark.sql import DataFrame

from identity_graph.checks.asset_checks import (
    PERMISSIONS_CHECK,
    DataCheck,
    data_checks,
    permission_result,
    permission_spec,
    run_data_checks,
)
from identity_graph.config import RunParameters
from identity_graph.model import EVENT_DATE, TABLE_NAMES, Table, table
from identity_graph.partitions import DEFAULT_LAST_DAY, daily_partitions, run_last_day
from identity_graph.resources.catalog import CatalogAccess
from identity_graph.resources.delta_io_manager import REPLACES_TABLE, not_stored
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

    The IO manager replaces days by ``partition_expr``; on the local target it partitions by
    ``partition_columns`` and table maintenance Z-orders by ``zorder_columns``; on Unity
    Catalog it creates the table with liquid clustering by ``clustering_columns``.
    """
    metadata: dict[str, Any] = {
        "primary_key": [declared.primary_key],
        "zorder_columns": list(declared.clustering),
        "clustering_columns": list(declared.cluster_by),
        "dagster/column_schema": column_schema(declared),
    }
    if declared.partition_column:
        metadata.update(partition_expr=declared.partition_column, partition_columns=[declared.partition_column])
    return metadata


def table_asset(name: str, *, domain: str | None = None, pii: bool = False, **kwargs: Any) -> Any:
    """The model's table ``name`` as an asset (:func:`checked_asset`) with its checks: its family as
    group, its metadata, and daily partitions (written in one run per range) when the model
    partitions it."""
    declared = table(name)
    tags = {"domain": domain or declared.family, **({"pii": "synthetic"} if pii else {})}
    if declared.partition_column:
        kwargs.setdefault("partitions_def", daily_partitions)
        kwargs.setdefault("backfill_policy", dg.BackfillPolicy.single_run())
    return checked_asset(
        name, data_checks(name), group_name=declared.family, tags=tags, metadata=table_metadata(declared), **kwargs
    )


def checked_asset(
    name: str,
    checks: Sequence[DataCheck],
    *,
    permissions: bool = True,
    group_name: str | None = None,
    tags: dict[str, str] | None = None,
    metadata: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Callable[[Callable[..., DataFrame]], dg.AssetsDefinition]:
    """A decorator making ``compute`` (which returns the table's DataFrame) one Dagster step that
    verifies the target's permissions, writes the table and then checks it.

    In the step, the ``target_permissions`` check (with ``permissions``) asks the catalog first,
    and a failure stops the step before anything is generated; the IO manager writes the
    DataFrame; then the selected data ``checks`` read the stored table and their parents. The step
    can be subset: a run of checks alone (``identity-graph check``, the UI's "Execute checks")
    computes the selected checks on the stored tables without generating. One step per table keeps
    a run to one remote run per table on the databricks target, whose step launcher ships each
    step to the cluster.

    ``compute`` needs ``spark`` and ``catalog`` among its parameters (the checks use them).
    """

    def decorate(compute: Callable[..., DataFrame]) -> dg.AssetsDefinition:
        signature = inspect.signature(compute)
        missing = {"context", "spark", "catalog"} - set(signature.parameters)
        if missing:
            raise TypeError(f"asset {name} needs the parameters {sorted(missing)} to run its checks")
        source = inspect.getsourcefile(compute) or ""
        references = dg.CodeReferencesMetadataValue(
            code_references=[
                dg.LocalFileCodeReference(
                    file_path=os.path.abspath(source), line_number=compute.__code__.co_firstlineno
                )
            ]
        )
        specs = ([permission_spec(name)] if permissions else []) + [c.spec() for c in checks]
        # (In a run of its checks alone, the IO manager hands the step None for each table input: the
        # step does not generate, and its checks read the stored tables themselves.)

        def step(context: dg.AssetExecutionContext, **arguments: Any) -> Iterator[Any]:
            catalog, spark = arguments["catalog"], arguments["spark"]
            # (context.asset_key is undefined in a run of the step's checks alone.)
            key = dg.AssetKey(name)
            writes = key in context.selected_asset_keys
            if permissions and dg.AssetCheckKey(key, PERMISSIONS_CHECK) in context.selected_asset_check_keys:
                verified = permission_result(catalog, name)
                yield verified
                if writes and not verified.passed:
                    # Nothing is generated, and the tables downstream are not built on a missing table.
                    raise dg.Failure(
                        description=f"{name} was not generated: the target cannot take it.\n{verified.description}"
                    )
            if writes:
                yield dg.Output(compute(context, **arguments), output_name=name)
            yield from run_data_checks(context, name, checks, catalog.location, spark)

        # Dagster reads the step's inputs, config and resources from the parameters of ``compute``; a
        # table input may be None (in a run of the step's checks alone, which never calls ``compute``).
        annotations = {
            k: (v | None if v is DataFrame else v) for k, v in compute.__annotations__.items() if k != "return"
        }
        step.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[
                p.replace(annotation=annotations.get(p.name, p.annotation)) for p in signature.parameters.values()
            ],
            return_annotation=inspect.Signature.empty,
        )
        step.__annotations__ = annotations
        step.__name__ = step.__qualname__ = name
        step.__module__ = compute.__module__
        return dg.multi_asset(
            name=name,
            outs={
                name: dg.AssetOut(
                    is_required=False,
                    description=inspect.getdoc(compute),
                    group_name=group_name,
                    kinds=KINDS,
                    owners=OWNERS,
                    tags=tags,
                    metadata={**(metadata or {}), "dagster/code_references": references},
                )
            },
            check_specs=specs,
            can_subset=True,
            **kwargs,
        )(step)

    return decorate


def stored_days(
    context: dg.AssetExecutionContext, catalog: CatalogAccess, spark: LazyPySparkResource, table: str, days_before: int
) -> DataFrame:
    """The stored rows of the event table ``table`` on this run's days and the ``days_before`` days
    before them (its asset input declares that partition mapping, as ``Nothing``: a run of the
    step's checks alone has no days for Dagster to map)."""
    location, session = catalog.location, spark.spark_session
    if not location.is_stored(session, table):
        raise not_stored(location, table)
    window = context.partition_time_window
    first, end = (window.start.date() - dt.timedelta(days=days_before)).isoformat(), window.end.date().isoformat()
    context.log.info(f"Reading {location.where(table)} for {first} … {end} (end exclusive)")
    frame = location.read(session, table)
    return frame.where((frame[EVENT_DATE] >= first) & (frame[EVENT_DATE] < end))


class Requested(NamedTuple):
    """What an asset generates with: the run parameters and its table's config."""

    params: RunParameters
    config: Any


def requested(
    context: dg.AssetExecutionContext,
    generation: GenerationSettings,
    catalog: CatalogAccess,
    spark: LazyPySparkResource,
    config: Any = None,
) -> Requested:
    """The parameters and config this asset generates its table with, recorded with the table.

    The window ends on the run's last event day (its partitions) — in a run rebuilding part of
    a stored graph, on the stored window's end when that is newer — and in a run naming no day
    where the stored graph's window ends (:data:`DEFAULT_LAST_DAY` when nothing is stored).
    A run that rebuilds part of a stored graph keeps the config the table was generated with
    (its record in the table's Delta commit): a run that asks nothing else (the defaults, as a
    schedule or a launchpad run does) is given it; a run that asks for other values fails,
    naming them, unless ``generation.rebuild`` is set. A run of the whole graph generates with
    what it asks and replaces each table whole, event days outside its window included: it
    builds a new graph, and older days would belong to the one it replaces. Both go to the
    materialisation's metadata and to the Delta commit.
    """
    table = context.asset_key.path[-1]
    whole = whole_graph(context)
    run_day = run_last_day(context.run.tags)
    # A run of the whole graph over named days uses no record: read the table's history only when needed.
    needs_record = not whole or run_day is None
    record = (catalog.location.recorded(spark.spark_session, table) or None) if needs_record else None
    asked = as_recorded(
        {"generation": generation.graph_settings(), "config": config.model_dump() if config is not None else None}
    )
    chosen = asked
    partial = record is not None and not whole
    if partial and not generation.rebuild:
        kept = {
            "generation": {k: v for k, v in (record.get("generation") or {}).items() if k in asked["generation"]},
            "config": record.get("config"),
        }
        if asked != kept:
            defaults = as_recorded(
                {
                    "generation": GenerationSettings().graph_settings(),
                    "config": type(config)().model_dump() if config is not None else None,
                }
            )
            if asked != defaults:
                raise dg.Failure(description=config_conflict(table, kept, asked))
            context.log.info(f"{table}: generating with the config the stored graph was generated with: {kept}")
            chosen = kept
    # The window ends on the newest event day: the run's last day, or the stored graph's when that is
    # newer (re-running a day inside the window leaves the window as it is).
    stored_end = ((record or {}).get("generation") or {}).get("end_date")
    stored_day = dt.date.fromisoformat(stored_end) if stored_end else None
    last_day = run_day
    if last_day is None:
        last_day = stored_day or DEFAULT_LAST_DAY
    elif partial and stored_day is not None:
        last_day = max(last_day, stored_day)
    params = generation.parameters(last_day, chosen["generation"])
    if config is not None and chosen is not asked:
        config = type(config)(**chosen["config"])
    settings = {**chosen["generation"], "end_date": last_day.isoformat()}
    metadata: dict[str, dg.RawMetadataValue] = {"generation": dg.MetadataValue.json(settings)}
    if config is not None:
        metadata["config"] = dg.MetadataValue.json(config.model_dump())
    if whole and context.assets_def.partitions_def is not None:
        metadata[REPLACES_TABLE] = True
    context.add_output_metadata(metadata, output_name=table)
    return Requested(params, config)


def as_recorded(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` as they read back from a record (JSON: tuples become lists)."""
    return json.loads(json.dumps(values))


def whole_graph(context: dg.AssetExecutionContext) -> bool:
    """Whether the run writes every table of the graph (a rebuild, not a partial run)."""
    planned = context.job_def.asset_layer.executable_asset_keys
    return {key.path[-1] for key in planned} >= set(TABLE_NAMES)


def config_conflict(table: str, kept: dict[str, Any], asked: dict[str, Any]) -> str:
    """Why a partial run refuses: which recorded values it asks to change."""
    changed = []
    for section in ("generation", "config"):
        before, after = kept.get(section) or {}, asked.get(section) or {}
        for key in sorted(set(before) | set(after)):
            if before.get(key) != after.get(key):
                where = "generation" if section == "generation" else table
                changed.append(f"{where}.{key}: stored {before.get(key)!r}, asked {after.get(key)!r}")
    return (
        f"{table} is stored with other config than this run asks for, and the run rebuilds only part of the "
        f"graph, so it would mix two configs: {'; '.join(changed)}. Run it without that config to keep the "
        "graph's, or set resources.generation.config.rebuild: true to generate with the new config (then rebuild "
        "the whole graph)."
    )
