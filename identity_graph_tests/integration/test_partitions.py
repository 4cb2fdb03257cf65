"""Daily partitions through the Delta IO manager: replaceWhere writes exactly the requested days."""

import datetime as dt
import os

import dagster as dg
from dagster_pyspark import LazyPySparkResource
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from identity_graph.partitions import daily_partitions, exposures_for_responses, partition_days, partition_key_range
from identity_graph.resources.delta_io_manager import DeltaIOManager
from identity_graph_tests.support.spark import TEST_SPARK_CONFIG
from identity_graph_tests.support.stored_graph import local_catalog


class DayConfig(dg.Config):
    value: int = 1
    spill_days: int = 0


@dg.asset(
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    metadata={"partition_expr": "event_date", "partition_columns": ["event_date"]},
)
def daily_events(context: dg.AssetExecutionContext, config: DayConfig, spark: LazyPySparkResource) -> DataFrame:
    """Ten rows per requested day; `spill_days` writes rows past the window (must be refused)."""
    days = partition_days(context.partition_time_window)
    if config.spill_days:
        days = [*days, days[-1] + dt.timedelta(days=config.spill_days)]
    frame = spark.spark_session.createDataFrame([(d,) for d in days], "event_date DATE")
    return frame.crossJoin(spark.spark_session.range(10)).withColumn("value", F.lit(config.value))


@dg.asset(
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    ins={"daily_events": dg.AssetIn(partition_mapping=exposures_for_responses)},
    metadata={"partition_expr": "event_date", "partition_columns": ["event_date"]},
)
def trailing_days(context: dg.AssetExecutionContext, daily_events: DataFrame) -> DataFrame:
    """Records which upstream days it was given, under its own day."""
    day = partition_days(context.partition_time_window)[-1]
    return (
        daily_events.groupBy()
        .agg(F.min("event_date").alias("first_read"), F.max("event_date").alias("last_read"))
        .withColumn("event_date", F.lit(day))
    )


@dg.asset
def all_days(daily_events: DataFrame) -> DataFrame:
    """An unpartitioned table downstream of the daily one."""
    return daily_events.groupBy("event_date").count()


def resources(warehouse) -> dict:
    spark = LazyPySparkResource(spark_config=TEST_SPARK_CONFIG)
    return {"spark": spark, "io_manager": DeltaIOManager(spark=spark, catalog=local_catalog(warehouse))}


def range_tags(first: str, last: str) -> dict:
    return {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}


def table(spark, warehouse, name, version=None):
    reader = spark.read.format("delta")
    if version is not None:
        reader = reader.option("versionAsOf", version)
    return reader.load(os.path.join(warehouse, "main", "identity_graph", name))


def by_day(frame) -> dict:
    return {
        r.event_date.isoformat(): (r["count"], r["v"])
        for r in frame.groupBy("event_date").agg(F.count("*").alias("count"), F.max("value").alias("v")).collect()
    }


def test_a_partition_range_is_written_in_one_run(spark, tmp_path):
    result = dg.materialize([daily_events], resources=resources(tmp_path), tags=range_tags("2026-10-01", "2026-10-03"))
    assert result.success
    assert by_day(table(spark, tmp_path, "daily_events")) == {
        "2026-10-01": (10, 1),
        "2026-10-02": (10, 1),
        "2026-10-03": (10, 1),
    }
    metadata = result.asset_materializations_for_node("daily_events")[0].metadata
    assert metadata["dagster/partition_row_count"].value == 30 and metadata["dagster/row_count"].value == 30
    assert "event_date >= '2026-10-01' AND event_date < '2026-10-04'" in metadata["write_mode"].value


def test_rematerialising_one_day_changes_only_that_day(spark, tmp_path):
    assert dg.materialize(
        [daily_events], resources=resources(tmp_path), tags=range_tags("2026-10-01", "2026-10-03")
    ).success
    before = table(spark, tmp_path, "daily_events").collect()
    result = dg.materialize(
        [daily_events],
        resources=resources(tmp_path),
        partition_key="2026-10-02",
        run_config={"ops": {"daily_events": {"config": {"value": 2}}}},
    )
    assert result.success
    assert by_day(table(spark, tmp_path, "daily_events")) == {
        "2026-10-01": (10, 1),
        "2026-10-02": (10, 2),
        "2026-10-03": (10, 1),
    }
    untouched = table(spark, tmp_path, "daily_events").where("event_date != '2026-10-02'")
    previous = spark.createDataFrame(before).where("event_date != '2026-10-02'")
    assert untouched.exceptAll(previous).count() == 0 and previous.exceptAll(untouched).count() == 0


def test_rows_outside_the_partition_window_are_refused_and_nothing_changes(spark, tmp_path):
    assert dg.materialize(
        [daily_events], resources=resources(tmp_path), tags=range_tags("2026-10-01", "2026-10-03")
    ).success
    version = spark.sql(
        f"DESCRIBE HISTORY delta.`{os.path.join(tmp_path, 'main', 'identity_graph', 'daily_events')}` LIMIT 1"
    ).first()["version"]
    result = dg.materialize(
        [daily_events],
        resources=resources(tmp_path),
        partition_key="2026-10-02",
        run_config={"ops": {"daily_events": {"config": {"value": 3, "spill_days": 1}}}},
        raise_on_error=False,
    )
    assert not result.success
    assert "replaceWhere" in str(
        result.get_step_failure_events()[0].step_failure_data.error
    ) or "DELTA_REPLACE_WHERE" in str(result.get_step_failure_events()[0].step_failure_data.error)
    after = spark.sql(
        f"DESCRIBE HISTORY delta.`{os.path.join(tmp_path, 'main', 'identity_graph', 'daily_events')}` LIMIT 1"
    ).first()["version"]
    assert after == version
    assert by_day(table(spark, tmp_path, "daily_events"))["2026-10-02"] == (10, 1)


def test_a_downstream_day_reads_its_trailing_window_of_upstream_days(spark, tmp_path):
    assert dg.materialize(
        [daily_events], resources=resources(tmp_path), tags=range_tags("2026-09-20", "2026-10-10")
    ).success
    assert dg.materialize(
        [daily_events, trailing_days],
        selection=[trailing_days.key],
        resources=resources(tmp_path),
        partition_key="2026-10-09",
    ).success
    row = table(spark, tmp_path, "trailing_days").first()
    assert (row.first_read.isoformat(), row.last_read.isoformat()) == ("2026-10-02", "2026-10-09")


def test_an_unpartitioned_table_reads_every_stored_day(spark, tmp_path):
    assert dg.materialize(
        [daily_events], resources=resources(tmp_path), tags=range_tags("2026-10-01", "2026-10-05")
    ).success
    assert dg.materialize([daily_events, all_days], selection=[all_days.key], resources=resources(tmp_path)).success
    assert table(spark, tmp_path, "all_days").count() == 5


def test_partition_helpers():
    assert partition_key_range(dt.date(2026, 10, 31), 7) == dg.PartitionKeyRange("2026-10-25", "2026-10-31")
    window = dg.TimeWindow(dt.datetime(2026, 10, 30, tzinfo=dt.UTC), dt.datetime(2026, 11, 2, tzinfo=dt.UTC))
    assert partition_days(window) == [dt.date(2026, 10, 30), dt.date(2026, 10, 31), dt.date(2026, 11, 1)]
