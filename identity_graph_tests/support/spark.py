"""The Spark settings every test session shares."""

from identity_graph.resources.spark import local_spark_config

#: Two cores, few shuffle partitions, no UI, UTC; a 4 GiB heap, since one session serves every test.
TEST_SPARK_CONFIG = local_spark_config(
    "local[2]",
    shuffle_partitions=2,
    extra={"spark.ui.enabled": "false", "spark.sql.adaptive.enabled": "false", "spark.driver.memory": "4g"},
)
