"""Comparing generated tables: order-independent fingerprints and row-for-row differences."""

from __future__ import annotations

from collections.abc import Mapping
from functools import reduce

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import MapType

from identity_graph.config import DemographicsConfig, HouseholdsConfig, IdentifiersConfig, RunParameters
from identity_graph.generation import generate_households, generate_identity_mappings, generate_individuals


def fingerprint(df: DataFrame) -> list[str]:
    """[row count, sum of a 64-bit hash of every row]: equal for equal multisets of rows (whp)."""
    return fingerprints({"frame": df})["frame"]


def fingerprints(frames: Mapping[str, DataFrame]) -> dict[str, list[str]]:
    """:func:`fingerprint` of each frame, all computed by one Spark query: a query per frame would
    pay Spark's planning and job start-up once per frame, which costs more than the scans of tables
    this small."""
    parts = []
    for name, frame in frames.items():
        rows = comparable(frame)
        parts.append(
            rows.agg(
                F.lit(name).alias("name"),
                F.count("*").alias("rows"),
                F.sum(F.xxhash64(*rows.columns).cast("decimal(38,0)")).alias("hash"),
            )
        )
    rows = reduce(DataFrame.unionByName, parts).collect()
    return {row["name"]: [str(row["rows"]), str(row["hash"])] for row in rows}


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
    return differing_tables({"frame": (a, b)})["frame"]


def differing_tables(pairs: Mapping[str, tuple[DataFrame, DataFrame]]) -> dict[str, int]:
    """:func:`differing_rows` of each pair, by name; the fingerprints of every frame in one query."""
    found = fingerprints({f"{name}/{side}": pair[i] for name, pair in pairs.items() for i, side in enumerate("ab")})
    differing = {}
    for name, (first, second) in pairs.items():
        if found[f"{name}/a"] == found[f"{name}/b"]:
            differing[name] = 0
        else:
            a, b = comparable(first), comparable(second)
            differing[name] = a.exceptAll(b).unionAll(b.exceptAll(a)).count()
    return differing
