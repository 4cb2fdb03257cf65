"""Comparing generated tables: order-independent fingerprints and row-for-row differences."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import MapType

from identity_graph.config import DemographicsConfig, HouseholdsConfig, IdentifiersConfig, RunParameters
from identity_graph.generation import generate_households, generate_identity_mappings, generate_individuals


def fingerprint(df: DataFrame) -> list[str]:
    """[row count, sum of a 64-bit hash of every row]: equal for equal multisets of rows (whp)."""
    df = comparable(df)
    row = df.agg(F.count("*"), F.sum(F.xxhash64(*df.columns).cast("decimal(38,0)"))).first()
    return [str(row[0]), str(row[1])]


def identity_core(spark: SparkSession, households: int, params: RunParameters) -> dict[str, DataFrame]:
    """The three identity tables at default config, each cached (as the IO manager's stored
    tables would cut the lineage in a real run)."""
    h = generate_households(spark, HouseholdsConfig(num_households=households), params).cache()
    i = generate_individuals(spark, h, DemographicsConfig(), params).cache()
    m = generate_identity_mappings(spark, i, IdentifiersConfig(), params).cache()
    return {"households": h, "individuals": i, "identity_mappings": m}


def comparable(df: DataFrame) -> DataFrame:
    """MAP columns as sorted arrays of entries: set operations do not accept maps."""
    return df.select(
        *[
            F.array_sort(F.map_entries(F.col(f.name))).alias(f.name)
            if isinstance(f.dataType, MapType)
            else F.col(f.name)
            for f in df.schema.fields
        ]
    )


def differing_rows(a: DataFrame, b: DataFrame) -> int:
    """Rows in one frame and not the other (as multisets).

    Equal fingerprints answer 0 from one scan of each frame; only frames that differ pay for the
    two shuffles that count their differing rows.
    """
    if fingerprint(a) == fingerprint(b):
        return 0
    a, b = comparable(a), comparable(b)
    return a.exceptAll(b).unionAll(b.exceptAll(a)).count()
