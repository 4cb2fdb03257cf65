"""Where the graph's tables live: one value the IO manager, the checks and maintenance share.

A plain frozen value, not run config: it is decided by the code location's target settings
(``IDENTITY_GRAPH_*``), so nothing typed in the launchpad can move the tables.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from identity_graph.resources.permissions import quote_identifier

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


@dataclass(frozen=True)
class TableLocation:
    """The target's tables: path-based Delta tables under ``warehouse`` (``local``), or Unity
    Catalog managed tables `` `catalog`.`schema`.`table` `` (``databricks``)."""

    target: Literal["local", "databricks"] = "local"
    warehouse: str = "warehouse"
    catalog: str = "main"
    schema: str = "identity_graph"

    @property
    def managed(self) -> bool:
        """Whether tables are Unity Catalog managed tables named by catalog.schema.table (else Delta paths)."""
        return self.target == "databricks"

    def table_name(self, table: str) -> str:
        """The three-level name users see: ``catalog.schema.table``."""
        return f"{self.catalog}.{self.schema}.{table}"

    def table_path(self, table: str) -> str:
        """Where the table's files live on the local target: ``<absolute warehouse>/<catalog>/<schema>/<table>``."""
        return os.path.join(os.path.abspath(self.warehouse), self.catalog, self.schema, table)

    def table_identifier(self, table: str) -> str:
        """The table as Spark SQL names it: delta.`<path>` locally, `catalog`.`schema`.`table` on Unity Catalog."""
        if self.managed:
            return ".".join(quote_identifier(part) for part in (self.catalog, self.schema, table))
        return "delta." + quote_identifier(self.table_path(table))

    def where(self, table: str) -> str:
        """Where the table is, for messages: its directory locally, its three-level name on Unity Catalog."""
        return self.table_name(table) if self.managed else self.table_path(table)

    def recorded(self, spark: SparkSession, table: str) -> dict[str, Any] | None:
        """What the table's newest generating write recorded in its Delta commit (``generation``
        settings and table ``config``), or None when the table is not stored or recorded nothing."""
        if not self.is_stored(spark, table):
            return None
        history = spark.sql(f"DESCRIBE HISTORY {self.table_identifier(table)}")
        for row in (
            history.where(history["userMetadata"].contains('"recorded"')).select("userMetadata").limit(1).collect()
        ):
            return json.loads(row["userMetadata"]).get("recorded")
        return None

    def read(self, spark: SparkSession, table: str) -> DataFrame:
        """The stored table, all of it."""
        reader = spark.read.format("delta")
        return reader.table(self.table_identifier(table)) if self.managed else reader.load(self.table_path(table))

    def is_stored(self, spark: SparkSession, table: str) -> bool:
        """Whether the table has been written yet: its ``_delta_log`` locally, the table in Unity Catalog."""
        if self.managed:
            return spark.catalog.tableExists(self.table_identifier(table))
        return os.path.isdir(os.path.join(self.table_path(table), "_delta_log"))
