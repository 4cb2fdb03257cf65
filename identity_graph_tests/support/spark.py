"""The Spark settings every test session shares."""

from identity_graph.resources.spark import local_spark_config

#: Two cores, few shuffle partitions, no UI, UTC; a 4 GiB heap, since one session serves every test.
#: The serial collector: on two cores shared by two test workers, G1's parallel and concurrent
#: threads cost more CPU than they save (a small graph with every check: 345 → 296 CPU-seconds).
TEST_SPARK_CONFIG = local_spark_config(
    "local[2]",
    shuffle_partitions=2,
    extra={
        "spark.ui.enabled": "false",
        "spark.sql.adaptive.enabled": "false",
        "spark.driver.memory": "4g",
        "spark.driver.extraJavaOptions": "-XX:+UseSerialGC",
    },
)
