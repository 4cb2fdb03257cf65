"""The Spark session: one per run, started lazily, with Delta configured.

dagster-pyspark's :class:`LazyPySparkResource` starts the session on first use, so
a run whose config is invalid fails before the JVM starts. This module only builds
its ``spark_config``.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import pyspark
from dagster_pyspark import LazyPySparkResource
from pyspark.sql import SparkSession

DEFAULT_LOCAL_MASTER = "local[*]"


def delta_package() -> str:
    """The Maven coordinate of the Delta jar matching the installed delta-spark and pyspark."""
    spark_minor = ".".join(pyspark.__version__.split(".")[:2])
    return f"io.delta:delta-spark_{spark_minor}_2.13:{importlib.metadata.version('delta-spark')}"


def local_spark_config(
    master: str = DEFAULT_LOCAL_MASTER,
    shuffle_partitions: int | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Spark settings for a local session that reads and writes Delta tables.

    The Delta jars come from Maven Central through ``spark.jars.packages`` and are
    cached by Spark's resolver under ``~/.ivy2*`` (first start only downloads).
    """
    conf = {
        "spark.master": master,
        "spark.app.name": "identity_graph",
        "spark.jars.packages": delta_package(),
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.session.timeZone": "UTC",
        # Loopback only: a laptop session has no business listening on the network.
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.ui.showConsoleProgress": "false",
        # Delta's log replay defaults to 50 partitions, which dominates small local writes.
        "spark.databricks.delta.snapshotPartitions": "2",
        "spark.sql.shuffle.partitions": str(shuffle_partitions or 8),
    }
    conf.update(extra or {})
    return conf


def remote_spark_config(remote: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Spark settings for a Spark Connect client of the server at ``remote`` (``sc://host:port``).

    The server owns the JVM, its Delta jars and extensions; the client sets only session
    settings. pyspark switches the builder to Spark Connect when ``spark.remote`` is set.
    """
    conf = {
        "spark.remote": remote,
        "spark.sql.session.timeZone": "UTC",
    }
    conf.update(extra or {})
    return conf


def local_spark_resource(
    master: str = DEFAULT_LOCAL_MASTER,
    shuffle_partitions: int | None = None,
    extra: Mapping[str, str] | None = None,
    remote: str | None = None,
) -> LazyPySparkResource:
    """A lazily started Spark session with Delta: a local JVM, or a Spark Connect client when ``remote`` is set."""
    if remote:
        return LazyPySparkResource(spark_config=remote_spark_config(remote, extra))
    return LazyPySparkResource(spark_config=local_spark_config(master, shuffle_partitions, extra))


@contextmanager
def session_conf(spark: SparkSession, settings: Mapping[str, str]) -> Iterator[None]:
    """Set Spark session settings for the duration of a block, then restore (or unset) each."""
    before = {key: spark.conf.get(key, None) for key in settings}
    try:
        for key, value in settings.items():
            spark.conf.set(key, value)
        yield
    finally:
        for key, value in before.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)
