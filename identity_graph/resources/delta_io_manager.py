"""The Delta IO manager: where each asset's table lives, and how it is written and read.

Assets return Spark DataFrames; this IO manager writes each one as a Delta table
and hands downstream assets a DataFrame read back from the stored table, so any
subset of the graph can be re-materialised from what is already stored.

Local target: path-based tables at ``<warehouse>/<catalog>/<schema>/<table>``.
Databricks target: Unity Catalog managed tables `` `catalog`.`schema`.`table` ``, the
schema created when missing, with liquid clustering by each asset's ``clustering_columns``
instead of Delta partitions (file layout and compaction are left to predictive optimization).
A full overwrite is one Delta commit, so a write that fails part-way leaves the
previous version intact and readable. Transient storage failures are retried with
backoff (:mod:`identity_graph.resources.retry`). Where the tables are, and the preflight
that verifies the target before a run writes, belong to :class:`CatalogAccess`.
"""

import json
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_pyspark import LazyPySparkResource
from pydantic import Field
from pyspark.sql import DataFrame, SparkSession

from identity_graph.resources.catalog import CatalogAccess
from identity_graph.resources.location import TableLocation
from identity_graph.resources.permissions import quote_identifier
from identity_graph.resources.retry import retry_transient
from identity_graph.resources.spark import session_conf


class WarehouseNotWritable(dg.Failure):
    """The warehouse location cannot be created or written."""


def table_schema(df: DataFrame) -> dg.TableSchema:
    """Dagster's column schema of a DataFrame (names, Spark SQL types, nullability)."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=f.name,
                type=f.dataType.simpleString(),
                constraints=dg.TableColumnConstraints(nullable=f.nullable),
            )
            for f in df.schema.fields
        ]
    )


def ensure_writable_directory(path: str) -> None:
    """Create ``path`` if needed and prove a file can be written in it; raise :class:`WarehouseNotWritable`."""
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-probe-"):
            pass
    except OSError as error:
        raise WarehouseNotWritable(
            description=f"Cannot write to the warehouse location {path}: {error.strerror or error} "
            f"(set IDENTITY_GRAPH_WAREHOUSE or --warehouse to a writable directory)",
            metadata={"path": dg.MetadataValue.path(path), "error": str(error)},
        ) from error


#: Delta records this session setting as a commit's ``userMetadata``: a SQL statement takes no write options.
COMMIT_USER_METADATA = "spark.databricks.delta.commitInfo.userMetadata"


def clustered_table_sql(identifier: str, cluster_by: list[str], source: str, *, replace: bool) -> str:
    """The statement creating a Unity Catalog table from ``source`` with liquid clustering by
    ``cluster_by``: ``CREATE OR REPLACE TABLE`` (one commit that replaces data, schema, layout and
    table properties) or ``CREATE TABLE IF NOT EXISTS``."""
    clause = f" CLUSTER BY ({', '.join(quote_identifier(c) for c in cluster_by)})" if cluster_by else ""
    verb = "CREATE OR REPLACE TABLE" if replace else "CREATE TABLE IF NOT EXISTS"
    return f"{verb} {identifier} USING DELTA{clause} AS SELECT * FROM {source}"


def table_layout(spark: SparkSession, identifier: str) -> tuple[list[str], list[str]]:
    """A stored table's Delta partition columns and liquid clustering columns (``DESCRIBE DETAIL``)."""
    detail = spark.sql(f"DESCRIBE DETAIL {identifier}").first()
    return list(detail["partitionColumns"] or []), list(detail["clusteringColumns"] or [])


#: Delta's setting that skips recording a commit that changes nothing (true by default).
SKIP_EMPTY_COMMITS = "spark.databricks.delta.skipRecordingEmptyCommits"


#: Output metadata an asset records with its table (in the Delta commit), so that a later run
#: rebuilding part of the graph can keep the config the table was generated with.
RECORDED_METADATA = ("generation", "config")


#: Output metadata by which an asset asks for its whole table to be replaced, not only its
#: partitions' days: the run builds a new graph, so older days belong to the one it replaces.
REPLACES_TABLE = "replaces_table"


def recorded(context: dg.OutputContext) -> dict[str, Any]:
    """The recorded output metadata of this write (JSON values), for the commit's ``userMetadata``."""
    metadata = context.output_metadata or {}
    return {key: metadata[key].value for key in RECORDED_METADATA if key in metadata}


def not_stored(location: TableLocation, table: str, kind: str = "Upstream table") -> dg.Failure:
    """The failure of a step that needs ``table`` before it is stored."""
    return dg.Failure(
        description=f"{kind} {location.table_name(table)} is not stored"
        + ("" if location.managed else f" at {location.table_path(table)}")
        + f"; materialise {table} first (or include it in the selection).",
    )


class DeltaIOManager(dg.ConfigurableIOManager):
    """Writes each asset as a Delta table and reads it back as a Spark DataFrame, at the
    catalog's location (the catalog's preflight has verified the run's tables by then)."""

    spark: dg.ResourceDependency[LazyPySparkResource]
    catalog: dg.ResourceDependency[CatalogAccess]
    max_attempts: int = Field(default=4, ge=1, description="Attempts per write or read when the failure is transient.")
    backoff_seconds: float = Field(default=2.0, ge=0, description="First retry delay; doubles on each further attempt.")

    @property
    def location(self) -> TableLocation:
        return self.catalog.location

    def _read(self, table: str) -> DataFrame:
        return self.location.read(self.spark.spark_session, table)

    def _create_schema(self, table: str) -> None:
        """Create the table's schema when it is missing (Unity Catalog)."""
        schema = self.location.table_identifier(table).rsplit(".", 1)[0]
        self.spark.spark_session.sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")

    @staticmethod
    def _table(context: dg.OutputContext | dg.InputContext) -> str:
        return context.asset_key.path[-1]

    # -- writing -------------------------------------------------------------------
    def handle_output(self, context: dg.OutputContext, obj: DataFrame | None) -> None:
        if obj is None:
            return
        if not isinstance(obj, DataFrame):
            raise TypeError(
                f"{context.asset_key.to_user_string()} returned {type(obj).__name__}; expected a Spark DataFrame"
            )
        table = self._table(context)
        where = self.location
        location = where.where(table)
        if where.managed:
            self._create_schema(table)
        else:
            ensure_writable_directory(os.path.dirname(location))
        partition_columns = list(context.definition_metadata.get("partition_columns") or [])
        cluster_by = list(context.definition_metadata.get("clustering_columns") or [])
        replace_where = self._replace_where(context)
        removed_days: list[str] = []
        if replace_where and self._replaces_table(context):
            removed_days = self._days_outside(context, table, replace_where)
            replace_where = None

        # A token on the commit finds this write's own entry in the history, whatever another
        # writer committed to the same table meanwhile.
        write_id = json.dumps(
            {"dagster_run_id": context.run_id, "write_id": uuid.uuid4().hex, "recorded": recorded(context)}
        )

        def write() -> None:
            if where.managed:
                self._write_managed(context, obj, table, cluster_by, replace_where, write_id)
                return
            writer = obj.write.format("delta").mode("overwrite").option("userMetadata", write_id)
            if replace_where:
                # Delta checks every written row against the predicate, so a partition
                # write can never widen into days outside its window.
                writer = writer.option("replaceWhere", replace_where)
            else:
                writer = writer.option("overwriteSchema", "true")
            if partition_columns:
                writer = writer.partitionBy(*partition_columns)
            # Delta skips the commit of a write that changes nothing (no rows written into days that
            # held none): commit anyway, so every write has its entry and recorded config.
            with session_conf(self.spark.spark_session, {SKIP_EMPTY_COMMITS: "false"}):
                writer.save(location)

        scope = f" where {replace_where}" if replace_where else ""
        context.log.info(f"Writing {where.table_name(table)}" + ("" if where.managed else f" to {location}") + scope)
        if removed_days:
            context.log.warning(
                f"{where.table_name(table)}: this run rebuilds the whole graph, so the {len(removed_days)} stored day(s) "
                f"outside its window ({removed_days[0]} … {removed_days[-1]}) are removed with the table it replaces"
            )
        started = time.monotonic()
        retry_transient(
            write,
            attempts=self.max_attempts,
            base_delay=self.backoff_seconds,
            describe=f"write {table}",
            log=context.log.warning,
        )
        commit = self._commit(table, write_id)
        metrics = commit.get("operationMetrics") or {}
        written = int(metrics.get("numOutputRows", 0))
        context.log.info(
            f"Wrote {written:,} rows to {where.table_name(table)}{scope} (Delta version {commit['version']}) "
            f"in {time.monotonic() - started:.1f}s"
        )
        metadata: dict[str, Any] = {
            "dagster/table_name": where.table_name(table),
            "dagster/column_schema": table_schema(obj),
            "dagster/storage_kind": "delta",
            "delta_version": int(commit["version"]),
            "bytes_written": int(metrics.get("numOutputBytes", 0)),
            "files_written": int(metrics.get("numFiles", metrics.get("numAddedFiles", 0))),
        }
        if where.managed:
            metadata["clustering_columns"] = cluster_by
        else:
            metadata["dagster/uri"] = Path(location).as_uri()
        if replace_where:
            # Delta answers count(*) from its file statistics, without scanning the data.
            total = self._read(table).count()
            metadata.update(
                {
                    "dagster/row_count": total,
                    "dagster/partition_row_count": written,
                    "write_mode": f"replaceWhere {replace_where}",
                }
            )
        else:
            metadata.update({"dagster/row_count": written, "write_mode": "overwrite"})
            if context.has_asset_partitions:
                metadata["dagster/partition_row_count"] = written
                metadata["days_removed"] = len(removed_days)
        context.add_output_metadata(metadata)

    def _write_managed(
        self,
        context: dg.OutputContext,
        obj: DataFrame,
        table: str,
        cluster_by: list[str],
        replace_where: str | None,
        write_id: str,
    ) -> None:
        """Write a Unity Catalog table with liquid clustering by ``cluster_by``, in one commit.

        A full write is ``CREATE OR REPLACE TABLE … CLUSTER BY (…) AS SELECT``: the table's data,
        schema, layout and properties are replaced (a table of an earlier layout, partitioned or
        with ``delta.autoOptimize.*`` properties, comes out clustered and without them). A day write
        is Delta's ``replaceWhere`` into the clustered table, which keeps its clustering; a table
        not stored yet is first created empty with its clustering, and a stored table of another
        layout is first rewritten once into it (``CREATE OR REPLACE TABLE t … AS SELECT * FROM t``,
        its rows unchanged), because a partitioned table cannot be altered to clustering.
        The clustering is stated in SQL: open-source Delta (4.4) refuses ``DataFrameWriter.clusterBy``
        ("Partitioning by expressions is not supported"), and a ``saveAsTable`` overwrite of a
        clustered table drops its clustering.
        """
        spark = self.spark.spark_session
        identifier = self.location.table_identifier(table)
        name = self.location.table_name(table)
        settings = {SKIP_EMPTY_COMMITS: "false"}
        if replace_where:
            if not self.location.is_stored(spark, table):
                view = self._temp_view(obj.limit(0))
                try:
                    with session_conf(spark, settings):
                        spark.sql(clustered_table_sql(identifier, cluster_by, view, replace=False))
                finally:
                    spark.catalog.dropTempView(view)
            else:
                partitioned, clustered = table_layout(spark, identifier)
                if partitioned or clustered != cluster_by:
                    stored = f"partitioned by {partitioned}" if partitioned else f"clustered by {clustered}"
                    context.log.warning(
                        f"{name} is {stored}, not clustered by {cluster_by} (written by an earlier layout): "
                        f"rewriting it once with liquid clustering by {cluster_by}, its rows unchanged, "
                        "before writing the run's days"
                    )
                    with session_conf(spark, settings):
                        spark.sql(clustered_table_sql(identifier, cluster_by, identifier, replace=True))
            writer = obj.write.format("delta").mode("overwrite").option("userMetadata", write_id)
            # Delta checks every written row against the predicate, so a day write can never widen.
            writer = writer.option("replaceWhere", replace_where)
            with session_conf(spark, settings):
                writer.saveAsTable(identifier)
            return
        view = self._temp_view(obj)
        try:
            with session_conf(spark, {**settings, COMMIT_USER_METADATA: write_id}):
                spark.sql(clustered_table_sql(identifier, cluster_by, view, replace=True))
        finally:
            spark.catalog.dropTempView(view)

    @staticmethod
    def _temp_view(obj: DataFrame) -> str:
        """``obj`` as a temporary view of its session, under a name no other write uses."""
        view = f"identity_graph_write_{uuid.uuid4().hex}"
        obj.createOrReplaceTempView(view)
        return view

    @staticmethod
    def _partition_expr(context: dg.OutputContext | dg.InputContext) -> str:
        metadata = (
            context.definition_metadata
            if isinstance(context, dg.OutputContext)
            else context.upstream_output.definition_metadata
        )
        expr = (metadata or {}).get("partition_expr")
        if not expr:
            raise dg.Failure(
                description=f"{context.asset_key.to_user_string()} is partitioned but its metadata names no partition_expr column"
            )
        return expr

    def _replace_where(self, context: dg.OutputContext) -> str | None:
        """The predicate selecting exactly the output's partition days, or None for a full overwrite."""
        if not context.has_asset_partitions:
            return None
        window = context.asset_partitions_time_window
        column = self._partition_expr(context)
        return f"{column} >= '{window.start.date().isoformat()}' AND {column} < '{window.end.date().isoformat()}'"

    @staticmethod
    def _replaces_table(context: dg.OutputContext) -> bool:
        value = (context.output_metadata or {}).get(REPLACES_TABLE)
        return bool(getattr(value, "value", value))

    def _days_outside(self, context: dg.OutputContext, table: str, replace_where: str) -> list[str]:
        """The stored partition days outside ``replace_where`` (none when the table is not stored)."""
        spark = self.spark.spark_session
        if not self.location.is_stored(spark, table):
            return []
        column = self._partition_expr(context)
        rows = self._read(table).where(f"NOT ({replace_where})").select(column).distinct().collect()
        return sorted(str(row[0]) for row in rows)

    def _commit(self, table: str, write_id: str) -> dict[str, Any]:
        """The history entry of the commit carrying ``write_id``."""
        history = self.spark.spark_session.sql(f"DESCRIBE HISTORY {self.location.table_identifier(table)}")
        rows = history.where(history["userMetadata"] == write_id).limit(1).collect()
        if not rows:
            raise dg.Failure(
                description=f"The write to {self.location.where(table)} succeeded but its commit is missing from the Delta history"
            )
        return rows[0].asDict(recursive=True)

    # -- reading -------------------------------------------------------------------
    @staticmethod
    def _step_writes(context: dg.InputContext) -> bool:
        """Whether the step taking this input writes its table (else it runs the table's checks alone)."""
        step = context.step_context
        assets_def = step.job_def.asset_layer.get_assets_def_for_node(step.node_handle)
        # In a subset, the step's assets definition holds the selected assets only.
        return assets_def is None or bool(assets_def.keys)

    def load_input(self, context: dg.InputContext) -> DataFrame | None:
        if not self._step_writes(context):
            # A table's step running its checks alone does not generate: its checks read what they need.
            return None
        table = self._table(context)
        where = self.location
        location = where.where(table)
        if not where.is_stored(self.spark.spark_session, table):
            raise not_stored(where, table)

        def read() -> DataFrame:
            frame = self._read(table)
            if context.has_asset_partitions:
                window = context.asset_partitions_time_window
                column = self._partition_expr(context)
                frame = frame.where(
                    (frame[column] >= window.start.date().isoformat()) & (frame[column] < window.end.date().isoformat())
                )
            return frame

        scope = ""
        if context.has_asset_partitions:
            window = context.asset_partitions_time_window
            scope = f" for {window.start.date().isoformat()} … {window.end.date().isoformat()} (end exclusive)"
        context.log.info(f"Reading {where.table_name(table)}" + ("" if where.managed else f" from {location}") + scope)
        return retry_transient(
            read,
            attempts=self.max_attempts,
            base_delay=self.backoff_seconds,
            describe=f"read {table}",
            log=context.log.warning,
        )
