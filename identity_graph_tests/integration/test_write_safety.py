"""Write safety: a failure never destroys what was there.

Real Dagster runs (``dg.materialize``) through the project's DeltaIOManager, on real Spark
and real Delta tables:

- a write whose Spark job fails part-way (after some tasks have written their files) leaves
  the table at its previous Delta version, schema and rows — for a full overwrite and for a
  daily ``replaceWhere`` write — and a good re-run then commits the next version;
- an uncreatable warehouse fails the run with ``WarehouseNotWritable`` naming the location,
  and a table stored elsewhere is untouched;
- two writers racing on one table (threads sharing the session's Spark, released together
  by a barrier, so their Delta transactions overlap): either both commit, one after the
  other, and every version is exactly one writer's data (for disjoint days: both days
  exactly), or one commits and the other fails with Delta's conflict error, unretried and
  with its text intact — never a mixed table, never a gap in the Delta log.

What the races do (Delta 4.4.0; every race overlapped, in 8-race soaks too): two overwrites
→ ConcurrentAppendException [DELTA_CONCURRENT_APPEND.WITHOUT_HINT]; two creators of a new
table → ProtocolChangedException [DELTA_PROTOCOL_CHANGED]; the same day twice →
ConcurrentAppendException [DELTA_CONCURRENT_APPEND.WITH_PARTITION_HINT]; disjoint days → both
commit. The caller gets py4j's Py4JJavaError carrying the Delta exception (the project never
imports the ``delta`` package, which would convert it to ``delta.exceptions.*``). The tests
assert the promise, not these particular outcomes; each concurrency test prints what it saw
(``pytest -s``), and ``WRITE_SAFETY_REPEATS=8`` runs more races per case.

Already covered in test_delta_io_manager.py and not repeated here: the failure message of
an unwritable warehouse through Dagster's step failure, and the retry policy on made-up
errors (here it is checked against the real conflicts Delta raises).
"""

import datetime as dt
import glob
import os
import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import dagster as dg
import pytest
from dagster_pyspark import LazyPySparkResource
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from identity_graph.partitions import daily_partitions, partition_days
from identity_graph.resources.delta_io_manager import DeltaIOManager, WarehouseNotWritable
from identity_graph.resources.retry import is_transient
from identity_graph_tests.support.spark import TEST_SPARK_CONFIG
from identity_graph_tests.support.stored_graph import local_catalog

ROWS = 400  # rows of the unpartitioned table
PER_DAY = 100  # rows per day of the daily table
INPUT_PARTITIONS = 4  # Spark tasks per write: with local[2], two finish before the last one runs
#: Races per concurrency case: the barrier makes (nearly) every one overlap. Raise it for a soak run.
REPEATS = int(os.environ.get("WRITE_SAFETY_REPEATS", "1"))

#: Barriers the racing assets wait on, by the name their run config gives.
BARRIERS: dict[str, threading.Barrier] = {}


class Plan(dg.Config):
    writer: int = 1
    fail_at_id: int = 0
    extra_column: bool = False
    barrier: str = ""
    empty: bool = False


def _shape(df: DataFrame, config: Plan) -> DataFrame:
    """Stamp the writer; optionally add a column; optionally fail the Spark task that reaches a late row."""
    df = df.withColumn("writer", F.lit(config.writer))
    if config.empty:
        df = df.where(F.lit(False))
    if config.extra_column:
        df = df.withColumn("extra", F.lit("x"))
    if config.fail_at_id:
        df = df.withColumn(
            "writer",
            F.when(F.col("id") == config.fail_at_id, F.raise_error(F.lit("injected failure"))).otherwise(
                F.col("writer")
            ),
        )
    if config.barrier:
        # Both runs reach this point before either returns its DataFrame, so both IO manager
        # writes (and their Delta transactions) start together.
        BARRIERS[config.barrier].wait(timeout=120)
    return df


@dg.asset
def snapshot_table(config: Plan, spark: LazyPySparkResource) -> DataFrame:
    """Ids 1..ROWS over INPUT_PARTITIONS tasks, stamped with the writer."""
    return _shape(spark.spark_session.range(1, ROWS + 1, 1, INPUT_PARTITIONS), config)


@dg.asset(
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    metadata={"partition_expr": "event_date", "partition_columns": ["event_date"]},
)
def daily_table(context: dg.AssetExecutionContext, config: Plan, spark: LazyPySparkResource) -> DataFrame:
    """PER_DAY rows (seq 0..PER_DAY-1) for each requested day, declared like content_engagements."""
    days = partition_days(context.partition_time_window)
    frame = spark.spark_session.range(0, len(days) * PER_DAY, 1, INPUT_PARTITIONS).select(
        "id",
        F.date_add(F.lit(days[0]), (F.col("id") / PER_DAY).cast("int")).alias("event_date"),
        (F.col("id") % PER_DAY).alias("seq"),
    )
    return _shape(frame, config).drop("id")


# -- helpers ---------------------------------------------------------------------------------


def resources(warehouse) -> dict:
    spark = LazyPySparkResource(spark_config=TEST_SPARK_CONFIG)
    return {
        "spark": spark,
        "io_manager": DeltaIOManager(spark=spark, catalog=local_catalog(warehouse), backoff_seconds=0.01),
    }


def run(asset, warehouse, raise_on_error=True, partition_key=None, days=None, instance=None, **plan):
    tags = (
        {"dagster/asset_partition_range_start": days[0], "dagster/asset_partition_range_end": days[1]} if days else None
    )
    return dg.materialize(
        [asset],
        resources=resources(warehouse),
        run_config={"ops": {asset.op.name: {"config": plan}}},
        partition_key=partition_key,
        tags=tags,
        instance=instance,
        raise_on_error=raise_on_error,
    )


def table_path(warehouse, table: str) -> str:
    return os.path.join(warehouse, "main", "identity_graph", table)


def delta_version(spark, path: str) -> int:
    return spark.sql(f"DESCRIBE HISTORY delta.`{path}` LIMIT 1").first()["version"]


def history(spark, path: str) -> dict[int, int | None]:
    """version -> the version its transaction read (None for the table's creation)."""
    return {r["version"]: r["readVersion"] for r in spark.sql(f"DESCRIBE HISTORY delta.`{path}`").collect()}


def stored(spark, path: str, version: int | None = None) -> list[tuple]:
    """Every row of the table (at ``version``), sorted, dates as ISO strings."""
    reader = spark.read.format("delta")
    if version is not None:
        reader = reader.option("versionAsOf", version)
    frame = reader.load(path)
    return sorted(tuple(v.isoformat() if isinstance(v, dt.date) else v for v in row) for row in frame.collect())


def columns(spark, path: str) -> list[str]:
    return spark.read.format("delta").load(path).columns


def commit_files(path: str) -> list[int]:
    """The versions that have a commit file in the Delta log."""
    return sorted(int(os.path.basename(f)[:-5]) for f in glob.glob(os.path.join(path, "_delta_log", "[0-9]*.json")))


def parquet_files(path: str) -> set[str]:
    return set(glob.glob(os.path.join(path, "**", "*.parquet"), recursive=True)) - set(
        glob.glob(os.path.join(path, "_delta_log", "**"), recursive=True)
    )


def chain_text(error: BaseException) -> str:
    """Type and message of an exception and of everything it was raised from."""
    parts, seen, current = [], set(), error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts.append(f"{type(current).__module__}.{type(current).__name__}: {current}")
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


def recorded_failure_text(result) -> str:
    """What Dagster recorded for the failed step: each error in the chain, outermost first."""
    error, parts = result.get_step_failure_events()[0].step_failure_data.error, []
    while error is not None:
        parts.append(error.to_string())
        error = error.cause
    return "\n".join(parts)


def plain_rows(writer: int, extra: bool = False) -> list[tuple]:
    return [(i, writer, "x") if extra else (i, writer) for i in range(1, ROWS + 1)]


def day_rows(day: str, writer: int) -> list[tuple]:
    return [(day, seq, writer) for seq in range(PER_DAY)]


# -- 1. an exception in the middle of the Spark job -----------------------------------------


def test_failure_mid_overwrite_keeps_the_previous_version_schema_and_rows(spark, tmp_path):
    """A full overwrite (with a new column) whose Spark job fails after tasks have written
    their files: the caller gets the injected error; the table stays at its version with
    exactly its rows and schema; a good re-run commits the next version with the new rows."""
    assert run(snapshot_table, tmp_path, writer=1).success
    path = table_path(tmp_path, "snapshot_table")
    assert (delta_version(spark, path), stored(spark, path)) == (0, plain_rows(1))
    files_before = parquet_files(path)

    with pytest.raises(Exception) as failure:
        run(snapshot_table, tmp_path, writer=2, extra_column=True, fail_at_id=ROWS - 3)
    assert "injected failure" in chain_text(failure.value)

    # The write really was cut off mid-way: tasks had already written data files ...
    assert len(parquet_files(path) - files_before) >= INPUT_PARTITIONS // 2
    # ... none of which the table sees.
    assert delta_version(spark, path) == 0 and commit_files(path) == [0]
    assert columns(spark, path) == ["id", "writer"]
    assert stored(spark, path) == plain_rows(1)

    result = run(snapshot_table, tmp_path, writer=3, extra_column=True)
    assert result.asset_materializations_for_node("snapshot_table")[0].metadata["delta_version"].value == 1
    assert delta_version(spark, path) == 1 and commit_files(path) == [0, 1]
    assert columns(spark, path) == ["id", "writer", "extra"]
    assert stored(spark, path) == plain_rows(3, extra=True)


def test_failure_mid_replace_where_keeps_every_day_as_it_was(spark, tmp_path):
    """A daily replaceWhere write of two days whose Spark job fails after tasks have written
    files into those days' directories: Dagster records the injected error; the table stays at
    its version with exactly its rows on every day; a good re-run replaces just those days."""
    assert run(daily_table, tmp_path, days=("2026-10-01", "2026-10-03"), writer=1).success
    path = table_path(tmp_path, "daily_table")
    before = day_rows("2026-10-01", 1) + day_rows("2026-10-02", 1) + day_rows("2026-10-03", 1)
    assert (delta_version(spark, path), stored(spark, path)) == (0, sorted(before))
    files_before = parquet_files(path)

    failed = run(
        daily_table,
        tmp_path,
        raise_on_error=False,
        days=("2026-10-02", "2026-10-03"),
        writer=2,
        fail_at_id=2 * PER_DAY - 3,
    )
    assert not failed.success
    assert "injected failure" in recorded_failure_text(failed)

    new_files = parquet_files(path) - files_before
    assert len(new_files) >= INPUT_PARTITIONS // 2
    assert all("event_date=2026-10-02" in f or "event_date=2026-10-03" in f for f in new_files)
    assert delta_version(spark, path) == 0 and commit_files(path) == [0]
    assert stored(spark, path) == sorted(before)

    result = run(daily_table, tmp_path, days=("2026-10-02", "2026-10-03"), writer=3)
    metadata = result.asset_materializations_for_node("daily_table")[0].metadata
    assert metadata["delta_version"].value == 1 and metadata["dagster/partition_row_count"].value == 2 * PER_DAY
    assert delta_version(spark, path) == 1 and commit_files(path) == [0, 1]
    assert stored(spark, path) == sorted(
        day_rows("2026-10-01", 1) + day_rows("2026-10-02", 3) + day_rows("2026-10-03", 3)
    )


# -- 2. an uncreatable warehouse --------------------------------------------------------------


def test_a_day_with_no_rows_into_a_day_that_held_none_is_still_one_commit(spark, tmp_path):
    """A day with nothing to write (a small graph's day without responses) changes no file; Delta
    skips recording such a commit by default, which would leave the write without its history entry
    and recorded config. It is committed: a new version with the write's metadata, 0 rows for the
    day, the other days as they were."""
    warehouse = tmp_path / "warehouse"
    path = table_path(warehouse, "daily_table")
    run(daily_table, warehouse, partition_key="2026-10-01")
    before = delta_version(spark, path)
    result = run(daily_table, warehouse, partition_key="2026-10-02", empty=True)
    assert delta_version(spark, path) == before + 1
    metadata = result.asset_materializations_for_node("daily_table")[0].metadata
    assert metadata["dagster/partition_row_count"].value == 0 and metadata["dagster/row_count"].value == PER_DAY
    assert metadata["delta_version"].value == before + 1
    assert sorted(
        r[0].isoformat() for r in spark.read.format("delta").load(path).select("event_date").distinct().collect()
    ) == ["2026-10-01"]


def test_uncreatable_warehouse_raises_warehouse_not_writable_and_leaves_other_tables_alone(spark, tmp_path):
    """A warehouse under a regular file cannot be created (chmod would not stop root): the
    caller gets WarehouseNotWritable naming the location, Dagster records it as such with the
    path as metadata, and the same table stored in another warehouse keeps its version and rows."""
    good = tmp_path / "good"
    assert run(snapshot_table, good, writer=1).success
    kept = table_path(good, "snapshot_table")

    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the warehouse's parent should be")
    location = os.path.join(blocker, "warehouse", "main", "identity_graph")

    with pytest.raises(WarehouseNotWritable) as raised:
        run(snapshot_table, blocker / "warehouse", writer=2)
    assert f"Cannot write to the warehouse location {location}: Not a directory" in raised.value.description
    assert raised.value.metadata["path"].value == location

    failed = run(snapshot_table, blocker / "warehouse", raise_on_error=False, writer=2)
    assert not failed.success
    failure = failed.get_step_failure_events()[0].step_failure_data
    assert failure.error.cls_name == "WarehouseNotWritable"
    assert failure.user_failure_data.metadata["path"].value == location

    assert blocker.read_text() == "a file where the warehouse's parent should be"
    assert delta_version(spark, kept) == 0 and commit_files(kept) == [0]
    assert stored(spark, kept) == plain_rows(1)


# -- 3. two writers at once -------------------------------------------------------------------

#: A Delta conflict: the exception class (Java via Py4J, or Python once `delta` is imported) ...
CONFLICT_CLASS = re.compile(
    r"\b(Concurrent(Append|DeleteRead|DeleteDelete|Transaction|Write)Exception|ProtocolChangedException|MetadataChangedException)\b"
)
#: ... and its error class.
CONFLICT_ERROR_CLASS = re.compile(
    r"\[(DELTA_CONCURRENT_[A-Z_]+(\.[A-Z_]+)?|DELTA_PROTOCOL_CHANGED|DELTA_METADATA_CHANGED)\]"
)


class Race:
    """Two runs released together; each ends as a result or as the exception the caller got."""

    def __init__(self, name: str):
        self.name, self.outcomes, self.retry_warnings = name, [], []

    def go(self, asset, warehouse, plans: list[dict]) -> "Race":
        BARRIERS[self.name] = threading.Barrier(len(plans))
        instances = [dg.DagsterInstance.ephemeral() for _ in plans]

        def one(index: int):
            try:
                return run(asset, warehouse, instance=instances[index], barrier=self.name, **plans[index])
            except Exception as error:  # noqa: BLE001 - the caller's view is what we check
                BARRIERS[self.name].abort()  # never leave the other writer waiting
                return error

        try:
            with ThreadPoolExecutor(len(plans)) as pool:
                self.outcomes = list(pool.map(one, range(len(plans))))
            # What the IO manager logged, e.g. "write t: transient failure on attempt 1/4 ...; retrying".
            self.retry_warnings = [
                entry.user_message
                for instance in instances
                for record in instance.get_runs()
                for entry in instance.all_logs(record.run_id)
                if "transient failure" in (entry.user_message or "")
            ]
        finally:
            del BARRIERS[self.name]
            for instance in instances:
                instance.dispose()
        return self

    @property
    def winners(self) -> list[int]:
        return [i for i, o in enumerate(self.outcomes) if not isinstance(o, BaseException)]

    @property
    def losers(self) -> list[int]:
        return [i for i, o in enumerate(self.outcomes) if isinstance(o, BaseException)]


def check_race(spark, path: str, base: int, race: Race, observed: Counter) -> None:
    """The promise every race keeps, whoever wins: one commit per successful writer and no
    other, a gapless log, and each loser failed with Delta's conflict error, not retried."""
    assert race.winners, f"{race.name}: neither writer succeeded: {[chain_text(o) for o in race.outcomes]}"
    latest = delta_version(spark, path)
    assert latest == base + len(race.winners), (
        f"{race.name}: {len(race.winners)} successes but version {base} -> {latest}"
    )
    assert commit_files(path) == list(range(latest + 1))
    for loser in race.losers:
        error = race.outcomes[loser]
        text = chain_text(error)
        # The caller gets Delta's own error, class and error class named, text intact.
        cls, error_class = CONFLICT_CLASS.search(text), CONFLICT_ERROR_CLASS.search(text)
        assert cls and error_class, f"{race.name}: not a Delta conflict:\n{text[:2000]}"
        assert "concurrent" in text.lower()
        assert not is_transient(error)
        observed[f"caller got {type(error).__name__}: {cls.group(1)} [{error_class.group(1)}]"] += 1
    # A retried conflict would have committed on its second attempt: no retries, no extra commit.
    assert race.retry_warnings == []
    new = {v: r for v, r in history(spark, path).items() if v > base}
    overlapped = bool(race.losers) or any(r is not None and r < v - 1 for v, r in new.items())
    observed["overlapping" if overlapped else "one after the other"] += 1
    observed["both committed" if len(race.winners) == 2 else "one committed, one conflicted"] += 1


def report(case: str, observed: Counter) -> None:
    print(f"\n{case}: {dict(observed)}")
    # A race that never overlapped proves nothing about concurrency.
    assert observed["overlapping"] >= 1, f"{case}: no race overlapped in {REPEATS} tries: {dict(observed)}"


def test_two_full_overwrites_at_once_leave_exactly_one_writers_table(spark, tmp_path):
    """Two full overwrites of an existing table at once: each Delta version is exactly one
    writer's rows (never a mix); if one writer loses it fails with Delta's conflict error."""
    assert run(snapshot_table, tmp_path, writer=0).success
    path = table_path(tmp_path, "snapshot_table")
    observed = Counter()
    for attempt in range(REPEATS):
        base = delta_version(spark, path)
        writers = [10 * attempt + 1, 10 * attempt + 2]
        race = Race(f"overwrite-{attempt}").go(snapshot_table, tmp_path, [{"writer": w} for w in writers])
        check_race(spark, path, base, race, observed)
        if len(race.winners) == 1:
            assert stored(spark, path) == plain_rows(writers[race.winners[0]])
        else:
            assert sorted([stored(spark, path, base + 1), stored(spark, path, base + 2)]) == sorted(
                plain_rows(w) for w in writers
            )
    report("two full overwrites", observed)


def test_two_writers_creating_a_new_table_at_once_leave_exactly_one_writers_table(spark, tmp_path):
    """Two writers creating a table that does not exist yet: the table exists, each version is
    exactly one writer's rows; a loser fails with Delta's conflict error; the table then takes
    a further ordinary write."""
    observed = Counter()
    for attempt in range(REPEATS):
        warehouse = tmp_path / f"w{attempt}"
        path = table_path(warehouse, "snapshot_table")
        race = Race(f"create-{attempt}").go(snapshot_table, warehouse, [{"writer": 1}, {"writer": 2}])
        check_race(spark, path, -1, race, observed)
        if len(race.winners) == 1:
            assert stored(spark, path) == plain_rows(race.winners[0] + 1)
        else:
            assert sorted([stored(spark, path, 0), stored(spark, path, 1)]) == [plain_rows(1), plain_rows(2)]
    latest = delta_version(spark, path)
    assert run(snapshot_table, warehouse, writer=3).success
    assert delta_version(spark, path) == latest + 1 and stored(spark, path) == plain_rows(3)
    report("two creators of a new table", observed)


def test_replace_where_on_disjoint_days_at_once_both_commit(spark, tmp_path):
    """Two daily writes of different days at once: Delta sees no conflict, so both commit and
    both days hold exactly their writer's rows; the version between holds exactly one of them,
    and each run's delta_version metadata names its own commit."""
    assert run(daily_table, tmp_path, days=("2026-10-01", "2026-10-02"), writer=0).success
    path = table_path(tmp_path, "daily_table")
    observed = Counter()
    current = {"2026-10-01": 0, "2026-10-02": 0}

    def table_of(writers: dict) -> list[tuple]:
        return sorted(row for day, w in writers.items() for row in day_rows(day, w))

    for attempt in range(REPEATS):
        base = delta_version(spark, path)
        first, second = 10 * attempt + 1, 10 * attempt + 2
        race = Race(f"disjoint-{attempt}").go(
            daily_table,
            tmp_path,
            [{"partition_key": "2026-10-01", "writer": first}, {"partition_key": "2026-10-02", "writer": second}],
        )
        check_race(spark, path, base, race, observed)
        assert race.winners == [0, 1], [chain_text(o) for o in race.outcomes if isinstance(o, BaseException)]
        # Each run reports its own commit (found by the token it wrote), not the table's latest.
        reported = sorted(
            r.asset_materializations_for_node("daily_table")[0].metadata["delta_version"].value for r in race.outcomes
        )
        assert reported == [base + 1, base + 2], f"delta_version metadata {reported} for commits {base + 1}, {base + 2}"
        assert stored(spark, path) == table_of({"2026-10-01": first, "2026-10-02": second})
        assert stored(spark, path, base + 1) in (
            table_of({**current, "2026-10-01": first}),
            table_of({**current, "2026-10-02": second}),
        )
        current = {"2026-10-01": first, "2026-10-02": second}
    report("replaceWhere, disjoint days", observed)


def test_replace_where_on_the_same_day_at_once_leaves_exactly_one_writers_day(spark, tmp_path):
    """Two daily writes of the same day at once: the day is exactly one writer's rows in every
    version, the other day is untouched; a loser fails with Delta's conflict error."""
    assert run(daily_table, tmp_path, days=("2026-10-01", "2026-10-02"), writer=0).success
    path = table_path(tmp_path, "daily_table")
    untouched = day_rows("2026-10-02", 0)
    observed = Counter()
    for attempt in range(REPEATS):
        base = delta_version(spark, path)
        writers = [10 * attempt + 1, 10 * attempt + 2]
        race = Race(f"same-day-{attempt}").go(
            daily_table, tmp_path, [{"partition_key": "2026-10-01", "writer": w} for w in writers]
        )
        check_race(spark, path, base, race, observed)
        if len(race.winners) == 1:
            assert stored(spark, path) == sorted(day_rows("2026-10-01", writers[race.winners[0]]) + untouched)
        else:
            assert sorted([stored(spark, path, base + 1), stored(spark, path, base + 2)]) == sorted(
                sorted(day_rows("2026-10-01", w) + untouched) for w in writers
            )
    report("replaceWhere, same day", observed)
