"""Order-independent fingerprints of generated tables, for determinism tests across processes.

Run as a script it generates the identity core and prints the fingerprints as JSON.
"""

from __future__ import annotations

import json
import sys

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from identity_graph.config import DemographicsConfig, HouseholdsConfig, IdentifiersConfig
from identity_graph.generation import RunParameters, generate_households, generate_identity_mappings, generate_individuals


def fingerprint(df: DataFrame) -> list[str]:
    """[row count, sum of a 64-bit hash of every row]: equal for equal multisets of rows (whp)."""
    row = df.agg(F.count("*"), F.sum(F.xxhash64(*df.columns).cast("decimal(38,0)"))).first()
    return [str(row[0]), str(row[1])]


def identity_core(spark: SparkSession, households: int, params: RunParameters) -> dict[str, DataFrame]:
    """The three identity tables at default config, each cached (as the IO manager's stored
    tables would cut the lineage in a real run)."""
    h = generate_households(spark, HouseholdsConfig(num_households=households), params).cache()
    i = generate_individuals(spark, h, DemographicsConfig(), params).cache()
    m = generate_identity_mappings(spark, i, IdentifiersConfig(), params).cache()
    return {"households": h, "individuals": i, "identity_mappings": m}


def differing_rows(a: DataFrame, b: DataFrame) -> int:
    """Rows in one frame and not the other (as multisets), in one Spark job."""
    return a.exceptAll(b).unionAll(b.exceptAll(a)).count()


def main(households: int, partitions: int) -> None:
    from identity_graph_tests.conftest import TEST_SPARK_CONFIG

    builder = SparkSession.builder
    for key, value in {**TEST_SPARK_CONFIG, "spark.sql.shuffle.partitions": str(partitions)}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    tables = identity_core(spark, households, RunParameters(seed=42, partitions=partitions))
    print("FINGERPRINTS " + json.dumps({name: fingerprint(df) for name, df in tables.items()}))
    spark.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
