"""The shapes a table declaration is made of: columns, foreign keys, tables."""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql.types import DataType, StructField, StructType


@dataclass(frozen=True)
class Column:
    """One column: its name, Spark type, what it means, and whether it may be NULL."""

    name: str
    type: DataType
    description: str
    nullable: bool = False

    @property
    def type_name(self) -> str:
        """The type as Spark SQL spells it (``bigint``, ``decimal(10,2)``, ``map<string,double>``)."""
        return self.type.simpleString()


@dataclass(frozen=True)
class ForeignKey:
    """``column`` of the declaring table references ``table.parent_column`` (NULLs reference nothing)."""

    column: str
    table: str
    parent_column: str

    @property
    def target(self) -> str:
        return f"{self.table}.{self.parent_column}"


#: Delta's limit on liquid clustering columns per table.
MAX_CLUSTERING_COLUMNS = 4


@dataclass(frozen=True)
class Table:
    """One table of the graph, declared once: everything else (config, generation, assets,
    checks, profiles, docs) reads it from here.

    ``family`` groups tables in the UI; ``partition_column`` is set on the daily event
    tables; ``clustering`` lists the columns rows are clustered by: Z-order on the local
    target, where the event tables are also partitioned by day, and liquid clustering by
    :attr:`cluster_by` (the day column first, then ``clustering``) on Unity Catalog.
    """

    name: str
    family: str
    description: str
    grain: str
    primary_key: str
    columns: tuple[Column, ...]
    foreign_keys: tuple[ForeignKey, ...] = ()
    partition_column: str | None = None
    clustering: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: duplicate column names in {names}")
        declared = set(names)
        referenced = [self.primary_key, *(fk.column for fk in self.foreign_keys), *self.clustering]
        if self.partition_column:
            referenced.append(self.partition_column)
        unknown = [c for c in referenced if c not in declared]
        if unknown:
            raise ValueError(f"{self.name}: keys or clustering name undeclared columns {unknown}")
        if len(self.cluster_by) > MAX_CLUSTERING_COLUMNS:
            raise ValueError(
                f"{self.name}: liquid clustering takes at most {MAX_CLUSTERING_COLUMNS} columns, "
                f"got {list(self.cluster_by)} (the partition column and clustering)"
            )

    @property
    def cluster_by(self) -> tuple[str, ...]:
        """The liquid clustering columns of the Unity Catalog table: the daily partition column
        (an event table's days are then its clustering's first key, and a day rewrite touches
        only that day's files), then ``clustering``."""
        leading = (self.partition_column,) if self.partition_column else ()
        return tuple(dict.fromkeys((*leading, *self.clustering)))

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def schema(self) -> StructType:
        """The Spark schema of the stored table (every field nullable, as Delta stores them)."""
        return StructType([StructField(c.name, c.type, True) for c in self.columns])

    @property
    def parents(self) -> tuple[str, ...]:
        """The tables this one's foreign keys reference, in declaration order, without repeats."""
        return tuple(dict.fromkeys(fk.table for fk in self.foreign_keys))

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name!r}")
