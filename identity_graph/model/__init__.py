"""The data model: every table of the graph declared once, and the shared vocabularies.

Plain Python and ``pyspark.sql.types`` — no Spark session, no Dagster. Config validation,
generation, the assets' specs, the key and foreign-key checks, the profiles and
``docs/data-model.md`` (``python -m identity_graph.model``) all read it; nothing else lists
the tables or their keys.
"""

from __future__ import annotations

from identity_graph.model import vocabularies
from identity_graph.model.schema import MAX_CLUSTERING_COLUMNS, Column, ForeignKey, Table
from identity_graph.model.tables import EVENT_DATE, TABLES

#: Each table by name.
BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}
#: Every table's name, in dependency order.
TABLE_NAMES: tuple[str, ...] = tuple(BY_NAME)
#: The daily-partitioned event tables.
EVENT_TABLES: tuple[str, ...] = tuple(t.name for t in TABLES if t.partition_column)
#: Every foreign-key edge of the graph, as (declaring table, foreign key).
FOREIGN_KEYS: tuple[tuple[Table, ForeignKey], ...] = tuple((t, fk) for t in TABLES for fk in t.foreign_keys)


def table(name: str) -> Table:
    """The declaration of table ``name``."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"no table {name!r} in the model; tables: {list(BY_NAME)}") from None


def _check_references() -> None:
    seen: set[str] = set()
    for t in TABLES:
        for fk in t.foreign_keys:
            if fk.table not in seen and fk.table != t.name:
                raise ValueError(f"{t.name}.{fk.column} references {fk.target}, which is not declared before it")
            parent = BY_NAME[fk.table]
            if fk.parent_column != parent.primary_key:
                raise ValueError(f"{t.name}.{fk.column} references {fk.target}, not {fk.table}'s primary key")
            if t.column(fk.column).type != parent.column(fk.parent_column).type:
                raise ValueError(f"{t.name}.{fk.column} and {fk.target} differ in type")
        seen.add(t.name)


_check_references()

__all__ = [
    "BY_NAME",
    "EVENT_DATE",
    "EVENT_TABLES",
    "FOREIGN_KEYS",
    "MAX_CLUSTERING_COLUMNS",
    "TABLES",
    "TABLE_NAMES",
    "Column",
    "ForeignKey",
    "Table",
    "table",
    "vocabularies",
]
