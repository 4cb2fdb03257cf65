"""The Delta IO manager: where each asset's table lives, and how it is written and read.

Assets return Spark DataFrames; this IO manager writes each one as a Delta table
and hands downstream assets a DataFrame read back from the stored table, so any
subset of the graph can be re-materialised from what is already stored.

Local target: path-based tables at ``<warehouse>/<catalog>/<schema>/<table>``.
Databricks target: Unity Catalog managed tables `` `catalog`.`schema`.`table` ``, the
schema created when missing, with optimized writes and auto-compaction on.
A full overwrite is one Delta commit, so a write that fails part-way leaves the
previous version intact and readable.
"""


import json
import os
import tempfile
import time
import uuid
from typing import Any

import dagster as dg
from dagster_pyspark import LazyPySparkResource
from pydantic import Field
from pyspark.sql import DataFrame

from identity_graph.profiles import profile_table
from identity_graph.resources.catalog import CatalogAccess, preflight
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


#: Table properties of every Unity Catalog table the graph writes: Delta's optimized writes
#: (fewer, larger files per write) and auto-compaction (small files merged after a write).
MANAGED_TABLE_PROPERTIES = {"delta.autoOptimize.optimizeWrite": "true", "delta.autoOptimize.autoCompact": "true"}


class DeltaIOManager(CatalogAccess, dg.ConfigurableIOManager):
    """Writes each asset as a Delta table and reads it back as a Spark DataFrame.

    Where tables go (target, warehouse, catalog, schema, credentials) is
    :class:`CatalogAccess`'s, so the preflight verifies exactly what is written.
    """

    spark: dg.ResourceDependency[LazyPySparkResource]
    max_attempts: int = Field(default=4, description="Attempts per write or read when the failure is transient (≥ 1).")
    backoff_seconds: float = Field(default=2.0, description="First retry delay; doubles on each further attempt.")
    profiles: bool = Field(
        default=True,
        description="Compute each table's profile for its asset page after the write (one Spark job per table).",
    )

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # Before any step of a run that writes tables: fail at once if the target cannot take them.
        preflight(context, self.verify)

    # -- locations -----------------------------------------------------------------
    @property
    def managed(self) -> bool:
        """Whether tables are Unity Catalog managed tables named by catalog.schema.table (else Delta paths)."""
        return self.target == "databricks"

    def table_name(self, table: str) -> str:
        """The three-level name users see: ``catalog.schema.table``."""
        return f"{self.catalog}.{self.schema_name}.{table}"

    def location(self, table: str) -> str:
        """Where the table is: its directory locally, its three-level name on Unity Catalog."""
        return self.table_name(table) if self.managed else self.table_path(table)

    def _read(self, table: str) -> DataFrame:
        reader = self.spark.spark_session.read.format("delta")
        return reader.table(self.table_identifier(table)) if self.managed else reader.load(self.table_path(table))

    def _create_schema(self, table: str) -> None:
        """Create the table's schema when it is missing (Unity Catalog)."""
        schema = self.table_identifier(table).rsplit(".", 1)[0]
        self.spark.spark_session.sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")

    @staticmethod
    def _table(context: dg.OutputContext | dg.InputContext) -> str:
        return context.asset_key.path[-1]

    # -- writing -------------------------------------------------------------------
    def handle_output(self, context: dg.OutputContext, obj: DataFrame | None) -> None:
        if obj is None:
            return
        if not isinstance(obj, DataFrame):
            raise TypeError(f"{context.asset_key.to_user_string()} returned {type(obj).__name__}; expected a Spark DataFrame")
        table = self._table(context)
        location = self.location(table)
        if self.managed:
            self._create_schema(table)
        else:
            ensure_writable_directory(os.path.dirname(location))
        partition_columns = list(context.definition_metadata.get("partition_columns") or [])
        replace_where = self._replace_where(context)

        # A token on the commit finds this write's own entry in the history, whatever another
        # writer committed to the same table meanwhile.
        write_id = json.dumps({"dagster_run_id": context.run_id, "write_id": uuid.uuid4().hex})

        def write() -> None:
            writer = obj.write.format("delta").mode("overwrite").option("userMetadata", write_id)
            if replace_where:
                # Delta checks every written row against the predicate, so a partition
                # write can never widen into days outside its window.
                writer = writer.option("replaceWhere", replace_where)
            else:
                writer = writer.option("overwriteSchema", "true")
            if partition_columns:
                writer = writer.partitionBy(*partition_columns)
            if self.managed:
                # Delta's defaults for tables created by this write; an existing table keeps its own.
                defaults = {f"spark.databricks.delta.properties.defaults.{k.removeprefix('delta.')}": v for k, v in MANAGED_TABLE_PROPERTIES.items()}
                with session_conf(self.spark.spark_session, defaults):
                    writer.saveAsTable(self.table_identifier(table))
            else:
                writer.save(location)

        scope = f" where {replace_where}" if replace_where else ""
        context.log.info(f"Writing {self.table_name(table)}" + ("" if self.managed else f" to {location}") + scope)
        started = time.monotonic()
        retry_transient(
            write, attempts=self.max_attempts, base_delay=self.backoff_seconds, describe=f"write {table}", log=context.log.warning
        )
        commit = self._commit(table, write_id)
        metrics = commit.get("operationMetrics") or {}
        written = int(metrics.get("numOutputRows", 0))
        context.log.info(
            f"Wrote {written:,} rows to {self.table_name(table)}{scope} (Delta version {commit['version']}) "
            f"in {time.monotonic() - started:.1f}s"
        )
        metadata: dict[str, Any] = {
            "dagster/table_name": self.table_name(table),
            "dagster/column_schema": table_schema(obj),
            "dagster/storage_kind": "delta",
            "uri": dg.MetadataValue.text(location) if self.managed else dg.MetadataValue.path(location),
            "delta_version": int(commit["version"]),
            "bytes_written": int(metrics.get("numOutputBytes", 0)),
            "files_written": int(metrics.get("numFiles", metrics.get("numAddedFiles", 0))),
        }
        if replace_where:
            # Delta answers count(*) from its file statistics, without scanning the data.
            total = self._read(table).count()
            metadata.update(
                {"dagster/row_count": total, "dagster/partition_row_count": written, "write_mode": f"replaceWhere {replace_where}"}
            )
        else:
            metadata.update({"dagster/row_count": written, "write_mode": "overwrite"})
        profile = self._profile(context, table) if self.profiles else None
        if profile is not None:
            metadata["profile"] = dg.MetadataValue.md(profile)
        context.add_output_metadata(metadata)

    def _profile(self, context: dg.OutputContext, table: str) -> str | None:
        """The stored table's profile (:mod:`identity_graph.profiles`) as markdown, or None when the
        table has none or its profile failed: a failure is logged as a warning, never failing the write."""
        started = time.monotonic()
        try:
            profile = profile_table(table, self._read)
        except Exception as error:  # noqa: BLE001 - the table is committed; a profile is a nicety on top of it
            first_line = (str(error).strip().splitlines() or [""])[0][:500]
            context.log.warning(f"Profile of {self.table_name(table)} skipped: {type(error).__name__}: {first_line}")
            return None
        if profile is not None:
            context.log.info(f"Profiled {self.table_name(table)} in {time.monotonic() - started:.1f}s")
        return profile

    @staticmethod
    def _partition_expr(context: dg.OutputContext | dg.InputContext) -> str:
        metadata = (
            context.definition_metadata if isinstance(context, dg.OutputContext) else context.upstream_output.definition_metadata
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

    def _commit(self, table: str, write_id: str) -> dict[str, Any]:
        """The history entry of the commit carrying ``write_id``."""
        history = self.spark.spark_session.sql(f"DESCRIBE HISTORY {self.table_identifier(table)}")
        rows = history.where(history["userMetadata"] == write_id).limit(1).collect()
        if not rows:
            raise dg.Failure(
                description=f"The write to {self.location(table)} succeeded but its commit is missing from the Delta history"
            )
        return rows[0].asDict(recursive=True)

    # -- reading -------------------------------------------------------------------
    def load_input(self, context: dg.InputContext) -> DataFrame:
        table = self._table(context)
        location = self.location(table)
        if not self.is_stored(self.spark.spark_session, table):
            raise dg.Failure(
                description=f"Upstream table {self.table_name(table)} is not stored"
                + ("" if self.managed else f" at {location}")
                + f"; materialise {context.asset_key.to_user_string()} first (or include it in the selection).",
            )

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
        context.log.info(f"Reading {self.table_name(table)}" + ("" if self.managed else f" from {location}") + scope)
        return retry_transient(
            read, attempts=self.max_attempts, base_delay=self.backoff_seconds, describe=f"read {table}", log=context.log.warning
        )
