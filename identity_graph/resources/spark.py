"""The Spark session: one per run, started lazily, with Delta configured.

dagster-pyspark's :class:`LazyPySparkResource` starts the session on first use, so
a run whose config is invalid fails before the JVM starts. This module only builds
its ``spark_config``.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import dagster as dg
import pyspark
from dagster_pyspark import LazyPySparkResource
from dagster_pyspark.resources import spark_session_from_config
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


def remote_spark_config(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Session settings of a Spark Connect client (the server is named apart: see
    :class:`SparkConnectResource`).

    The server owns the JVM, its Delta jars and extensions; the client sets only session
    settings. pyspark switches the builder to Spark Connect when ``spark.remote`` is set.
    """
    return {"spark.sql.session.timeZone": "UTC", **(extra or {})}


#: The environment variable naming the Spark Connect server (its URL may carry a token).
REMOTE_VARIABLE = "IDENTITY_GRAPH_SPARK_REMOTE"


class SparkConnectResource(LazyPySparkResource):
    """A lazily started Spark Connect client of the server at ``remote``.

    ``remote`` is set from ``dg.EnvVar("IDENTITY_GRAPH_SPARK_REMOTE")``: the URL of a Databricks
    cluster carries its token (``sc://<workspace>:443/;token=…;x-databricks-cluster-id=…``), so
    Dagster keeps only the variable's name and reads the value when the session starts; the URL
    never enters run config, the definitions' snapshot or a log.
    """

    remote: str

    def _init_session(self) -> None:
        if self._spark_session is None:
            self._spark_session = spark_session_from_config({**self.spark_config, "spark.remote": self.remote})


def local_spark_resource(
    master: str = DEFAULT_LOCAL_MASTER,
    shuffle_partitions: int | None = None,
    extra: Mapping[str, str] | None = None,
    remote: str | None = None,
) -> LazyPySparkResource:
    """A lazily started Spark session with Delta: a local JVM, or (``remote`` set) a Spark Connect
    client of the server that ``IDENTITY_GRAPH_SPARK_REMOTE`` names when the session starts."""
    if remote:
        return connect_spark_resource(extra)
    return LazyPySparkResource(spark_config=local_spark_config(master, shuffle_partitions, extra))


def connect_spark_resource(extra: Mapping[str, str] | None = None) -> SparkConnectResource:
    """A :class:`SparkConnectResource` of the server ``IDENTITY_GRAPH_SPARK_REMOTE`` names."""
    return SparkConnectResource(spark_config=remote_spark_config(extra), remote=dg.EnvVar(REMOTE_VARIABLE))


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
