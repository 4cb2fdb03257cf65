"""The Spark settings every test session shares."""

from identity_graph.resources.spark import local_spark_config

#: Expressions interpreted instead of compiled to Java classes (Spark's own NO_CODEGEN mode, which
#: its test suites run too). The tests' tables are small and every query is new, so compiling
#: them costs more than it saves: a small graph with every check spent 162 of its ≈ 317 JVM
#: CPU-seconds in the JIT compiling generated classes; interpreted, 254 CPU-seconds and 166 s
#: instead of 200 s wall. The product keeps codegen (its default config), and so do the tests that
#: run ``identity-graph`` in another process (e2e/test_cli.py).
INTERPRETED = {"spark.sql.codegen.wholeStage": "false", "spark.sql.codegen.factoryMode": "NO_CODEGEN"}

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
        **INTERPRETED,
    },
)
