"""Shared pieces of generation: id ranges, synthetic time, conforming to the model.

The run parameters every generator takes are :class:`identity_graph.config.RunParameters`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from identity_graph.model import Table

#: Rows per block when assigning contiguous ids (see :func:`with_contiguous_ids`).
ID_BLOCK_SIZE = 1 << 16


def key_range(spark: SparkSession, count: int, name: str, partitions: int | None) -> DataFrame:
    """BIGINT keys 1..count in column ``name``."""
    frame = spark.range(1, count + 1, 1, partitions) if partitions else spark.range(1, count + 1)
    return frame.withColumnRenamed("id", name)


def with_contiguous_ids(df: DataFrame, order_key: str, count: str, offset: str, group: str | None = None) -> DataFrame:
    """Add ``offset``: the sum of ``count`` over all rows with a smaller ``order_key``
    (within the same ``group``, when one is given).

    Children of row r then get ids ``offset + 1 .. offset + count`` — contiguous,
    unique, and independent of partitioning. Sums are taken per block of
    ``ID_BLOCK_SIZE`` keys, so only the small table of block totals goes through a
    single-partition window, not the rows themselves.
    """
    groups = [group] if group else []
    blocked = df.withColumn("_id_block", F.floor(F.col(order_key) / F.lit(ID_BLOCK_SIZE)))
    totals = blocked.groupBy(*groups, "_id_block").agg(F.sum(count).alias("_block_total"))
    before_block = Window.partitionBy(*groups).orderBy("_id_block").rowsBetween(Window.unboundedPreceding, -1)
    offsets = totals.select(
        *groups, "_id_block", F.coalesce(F.sum("_block_total").over(before_block), F.lit(0)).alias("_block_offset")
    )
    before_row = Window.partitionBy(*groups, "_id_block").orderBy(order_key).rowsBetween(Window.unboundedPreceding, -1)
    return (
        blocked.join(F.broadcast(offsets), [*groups, "_id_block"])
        .withColumn(
            offset, (F.col("_block_offset") + F.coalesce(F.sum(count).over(before_row), F.lit(0))).cast("bigint")
        )
        .drop("_id_block", "_block_offset")
    )


#: Event keys are ``day_number * DAY_KEY_STRIDE + sequence within the day``: stable when
#: a single day is regenerated, unique across days, and readable (the day shows in the key).
DAY_KEY_STRIDE = 10_000_000_000


def day_number(date_column: Column) -> Column:
    """Days since 1970-01-01 of a DATE column, as BIGINT."""
    return F.datediff(date_column, F.lit("1970-01-01").cast("date")).cast("bigint")


def day_scoped_key(date_column: Column, sequence: Column) -> Column:
    """The event key of the ``sequence``-th (1-based) row of a day."""
    return day_number(date_column) * F.lit(DAY_KEY_STRIDE) + sequence


def timestamp_at(epoch: Column) -> Column:
    """A TIMESTAMP from epoch seconds (whole seconds)."""
    return F.timestamp_seconds(F.floor(epoch).cast("bigint"))


def conform(frame: DataFrame, declared: Table) -> DataFrame:
    """``frame`` as the model declares the table: exactly its columns, in order, with their types."""
    missing = [c.name for c in declared.columns if c.name not in frame.columns]
    if missing:
        raise ValueError(f"{declared.name}: generated frame lacks the model's columns {missing}")
    return frame.select(*[F.col(c.name).cast(c.type).alias(c.name) for c in declared.columns])


Generator = TypeVar("Generator", bound=Callable[..., DataFrame])


def generates(declared: Table) -> Callable[[Generator], Generator]:
    """Decorator: the generator's output is :func:`conform`\\ ed to the model's table ``declared``."""

    def decorate(generator: Generator) -> Generator:
        @functools.wraps(generator)
        def conformed(*args: Any, **kwargs: Any) -> DataFrame:
            return conform(generator(*args, **kwargs), declared)

        conformed.table = declared  # type: ignore[attr-defined]
        return conformed  # type: ignore[return-value]

    return decorate


def hour_of(ts: Column) -> Column:
    """The UTC hour (0–23) of a TIMESTAMP, whatever the session time zone."""
    return F.floor(F.pmod(F.unix_seconds(ts), F.lit(86_400)) / F.lit(3600)).cast("int")


def value_shares(frame: DataFrame, column: str, order: Column | None = None) -> DataFrame:
    """Per value of ``column``: ``_below``, the share of rows with a smaller value (by ``order``,
    default the value itself), and ``_share``, its own share — one small row per distinct value.

    ``_below + _share · u`` with u uniform is then a row's quantile, uniform over the rows: what
    ``random.near`` needs to tie a draw to ``column`` while keeping the draw's shares.
    """
    counts = frame.groupBy(column).agg(F.count(F.lit(1)).alias("_n"))
    below = Window.orderBy(F.col(column) if order is None else order).rowsBetween(Window.unboundedPreceding, -1)
    total = F.sum("_n").over(Window.partitionBy())
    return counts.select(
        column,
        (F.coalesce(F.sum("_n").over(below), F.lit(0)) / total).alias("_below"),
        (F.col("_n") / total).alias("_share"),
    )
