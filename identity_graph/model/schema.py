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


@dataclass(frozen=True)
class Table:
    """One table of the graph, declared once: everything else (config, generation, assets,
    checks, profiles, docs) reads it from here.

    ``family`` groups tables in the UI; ``partition_column`` is set on the daily event
    tables; ``clustering`` lists the columns rows are clustered by (Z-order locally,
    liquid clustering on Unity Catalog).
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
