"""Table maintenance: OPTIMIZE (Z-ordered locally) and VACUUM on every table of the graph, weekly.

The Spark/Delta statements (:func:`optimize`, :func:`vacuum`) take a Spark session and a
table's SQL identifier and know nothing of Dagster; the ``maintain_tables`` op runs them
table by table and reports what Delta recorded (its ``DESCRIBE HISTORY`` metrics) as
output metadata and as an asset observation of each table.

Locally, Z-order columns come from each asset's definition metadata (``zorder_columns``),
minus its partition columns (Delta refuses to Z-order by a partition column). On the
databricks target the tables have liquid clustering (see the Delta IO manager): OPTIMIZE
takes no ZORDER BY there (Delta refuses one on a clustered table) and clusters the files by
the table's clustering columns itself.
"""

import json
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import dagster as dg
from dagster_pyspark import LazyPySparkResource
from pydantic import Field, field_validator, model_validator
from pyspark.sql import SparkSession

from identity_graph.assets.campaigns import ASSETS as CAMPAIGN_ASSETS
from identity_graph.assets.engagement import ASSETS as ENGAGEMENT_ASSETS
from identity_graph.assets.identity import ASSETS as IDENTITY_ASSETS
from identity_graph.assets.measurement import ASSETS as MEASUREMENT_ASSETS
from identity_graph.markdown import table as markdown_table
from identity_graph.model import TABLE_NAMES
from identity_graph.resources.catalog import CatalogAccess
from identity_graph.resources.databricks import StepLauncherParam
from identity_graph.resources.permissions import quote_identifier
from identity_graph.resources.spark import session_conf

MAINTENANCE_JOB = "maintain_identity_graph"
MAINTENANCE_OP = "maintain_tables"
MAINTENANCE_SCHEDULE = "weekly_table_maintenance"
#: Sundays at 03:00 UTC.
MAINTENANCE_CRON = "0 3 * * 0"

#: Delta's default retention of removed files (``delta.deletedFileRetentionDuration``, 7 days).
DELTA_DEFAULT_RETENTION_HOURS = 168
#: Delta refuses VACUUM below the table's retention while this is true (the default).
RETENTION_CHECK_CONF = "spark.databricks.delta.retentionDurationCheck.enabled"
#: VACUUM records VACUUM START / VACUUM END commits (with the files deleted) while this is true.
VACUUM_LOGGING_CONF = "spark.databricks.delta.vacuum.logging.enabled"
#: VACUUM lists the table's files in this many Spark tasks (Spark's default: 10,000).
LISTING_PARALLELISM_CONF = "spark.sql.sources.parallelPartitionDiscovery.parallelism"
#: The session settings VACUUM sets for its statement alone (and restores).
SESSION_CONFS = (RETENTION_CHECK_CONF, VACUUM_LOGGING_CONF, LISTING_PARALLELISM_CONF)


# -- which columns each table is Z-ordered by ---------------------------------------------


def zorder_columns_by_table(assets: Sequence[dg.AssetsDefinition]) -> dict[str, list[str]]:
    """Each asset's ``zorder_columns`` metadata without its ``partition_columns``, by table name."""
    plan: dict[str, list[str]] = {}
    for asset in assets:
        for key, metadata in asset.metadata_by_key.items():
            partition_columns = set(metadata.get("partition_columns") or [])
            plan[key.path[-1]] = [c for c in metadata.get("zorder_columns") or [] if c not in partition_columns]
    return plan


ZORDER_COLUMNS = zorder_columns_by_table([*IDENTITY_ASSETS, *ENGAGEMENT_ASSETS, *CAMPAIGN_ASSETS, *MEASUREMENT_ASSETS])


# -- Spark and Delta, no Dagster ----------------------------------------------------------


@dataclass(frozen=True)
class OptimizeResult:
    """What one OPTIMIZE did, from its ``DESCRIBE HISTORY`` entry (``version`` None: nothing to rewrite, no commit).

    ``cluster_by``: the liquid clustering columns OPTIMIZE clustered by (a clustered table), as Delta recorded them.
    """

    zorder_by: list[str]
    cluster_by: list[str]
    version: int | None
    files_removed: int
    files_added: int
    bytes_removed: int
    bytes_added: int
    seconds: float


@dataclass(frozen=True)
class VacuumResult:
    """What one VACUUM did, from its VACUUM START and VACUUM END history entries."""

    retention_hours: int
    files_deleted: int
    bytes_deleted: int
    version: int | None
    seconds: float


def latest_version(spark: SparkSession, identifier: str) -> int:
    return int(spark.sql(f"DESCRIBE HISTORY {identifier} LIMIT 1").first()["version"])


def history_since(spark: SparkSession, identifier: str, version: int) -> list[dict[str, Any]]:
    """The table's history entries after ``version``, oldest first."""
    history = spark.sql(f"DESCRIBE HISTORY {identifier}")
    rows = (
        history.where(history["version"] > version)
        .select("version", "operation", "operationParameters", "operationMetrics")
        .collect()
    )
    return sorted((row.asDict(recursive=True) for row in rows), key=lambda entry: entry["version"])


def _metric(entry: Mapping[str, Any] | None, name: str) -> int:
    metrics = (entry or {}).get("operationMetrics") or {}
    return int(metrics.get(name) or 0)


def _first(entries: list[dict[str, Any]], operation: str) -> dict[str, Any] | None:
    return next((entry for entry in entries if entry["operation"] == operation), None)


def optimize(spark: SparkSession, identifier: str, zorder_by: Sequence[str] = ()) -> OptimizeResult:
    """``OPTIMIZE <identifier> [ZORDER BY (...)]``: compact small files, Z-ordered by ``zorder_by``; a table
    with liquid clustering is clustered by its clustering columns (give it no ``zorder_by``)."""
    started = time.monotonic()
    before = latest_version(spark, identifier)
    statement = f"OPTIMIZE {identifier}"
    if zorder_by:
        statement += " ZORDER BY (" + ", ".join(quote_identifier(c) for c in zorder_by) + ")"
    spark.sql(statement).collect()
    entry = _first(history_since(spark, identifier, before), "OPTIMIZE")
    parameters = (entry or {}).get("operationParameters") or {}
    return OptimizeResult(
        zorder_by=list(zorder_by),
        cluster_by=list(json.loads(parameters.get("clusterBy") or "[]")),
        version=None if entry is None else int(entry["version"]),
        files_removed=_metric(entry, "numRemovedFiles"),
        files_added=_metric(entry, "numAddedFiles"),
        bytes_removed=_metric(entry, "numRemovedBytes"),
        bytes_added=_metric(entry, "numAddedBytes"),
        seconds=round(time.monotonic() - started, 2),
    )


def check_retention(retention_hours: int, allow_below_default: bool) -> None:
    """Refuse a retention below Delta's default unless the override is given (ValueError naming the field)."""
    if retention_hours < 0:
        raise ValueError(f"retention_hours must be ≥ 0, got {retention_hours}")
    if retention_hours < DELTA_DEFAULT_RETENTION_HOURS and not allow_below_default:
        raise ValueError(
            f"retention_hours={retention_hours} is below Delta's default retention of {DELTA_DEFAULT_RETENTION_HOURS} "
            "hours (7 days): VACUUM would delete files that readers of older versions or a running write may still "
            "need. Set allow_retention_below_default: true to do it anyway."
        )


def vacuum(
    spark: SparkSession,
    identifier: str,
    retention_hours: int,
    allow_below_default: bool = False,
    listing_parallelism: int | None = None,
) -> VacuumResult:
    """``VACUUM <identifier> RETAIN <n> HOURS``: delete files no version within the retention references.

    Below Delta's default retention it runs only with ``allow_below_default``, which turns
    Delta's retention check off for this statement alone. ``listing_parallelism`` sets the
    number of tasks listing the table's files, for this statement alone (Spark's default of
    10,000 tasks takes about 40 s per table on a 2-core local session).
    """
    check_retention(retention_hours, allow_below_default)
    started = time.monotonic()
    settings = {VACUUM_LOGGING_CONF: "true"}
    if retention_hours < DELTA_DEFAULT_RETENTION_HOURS:
        settings[RETENTION_CHECK_CONF] = "false"
    if listing_parallelism:
        settings[LISTING_PARALLELISM_CONF] = str(listing_parallelism)
    before = latest_version(spark, identifier)
    with session_conf(spark, settings):
        spark.sql(f"VACUUM {identifier} RETAIN {int(retention_hours)} HOURS").collect()
    entries = history_since(spark, identifier, before)
    start, end = _first(entries, "VACUUM START"), _first(entries, "VACUUM END")
    return VacuumResult(
        retention_hours=retention_hours,
        files_deleted=_metric(end, "numDeletedFiles"),
        bytes_deleted=_metric(start, "sizeOfDataToDelete"),
        version=None if end is None else int(end["version"]),
        seconds=round(time.monotonic() - started, 2),
    )


# -- Dagster ------------------------------------------------------------------------------


class MaintenanceConfig(dg.Config):
    """What the maintenance run does: OPTIMIZE (Z-ordered locally, clustered on Unity Catalog) then VACUUM, on the chosen tables."""

    retention_hours: int = Field(
        default=DELTA_DEFAULT_RETENTION_HOURS,
        description="VACUUM keeps files still referenced by any table version of the last retention_hours hours "
        "(default 168 = Delta's default of 7 days). Below 168 needs allow_retention_below_default.",
    )
    allow_retention_below_default: bool = Field(
        default=False,
        description="Allow retention_hours below Delta's 168-hour default: time travel to older versions stops "
        "working, and a write running at the same time can lose files it has not committed yet.",
    )
    zorder: bool = Field(
        default=True,
        description="Local target: Z-order each table by its zorder_columns (asset metadata); false: compaction only. "
        "Ignored on the databricks target, where OPTIMIZE clusters each table by its liquid clustering columns.",
    )
    tables: list[str] = Field(
        default=list(TABLE_NAMES),
        description="Tables to maintain (default: all ten). A table that does not exist yet is skipped and reported.",
    )

    @field_validator("tables")
    @classmethod
    def _known_tables(cls, v: list[str]) -> list[str]:
        unknown = [t for t in v if t not in TABLE_NAMES]
        if unknown:
            raise ValueError(f"tables: unknown table(s) {unknown}; choose from {list(TABLE_NAMES)}")
        if len(set(v)) != len(v):
            raise ValueError(f"tables: each table at most once, got {v}")
        if not v:
            raise ValueError("tables: name at least one table")
        return v

    @model_validator(mode="after")
    def _retention(self) -> "MaintenanceConfig":
        check_retention(self.retention_hours, self.allow_retention_below_default)
        return self


def _cores(session: SparkSession) -> int:
    """The local session's default parallelism; a Spark Connect client has no SparkContext, so this machine's cores."""
    try:
        return session.sparkContext.defaultParallelism
    except AttributeError:  # PySparkAttributeError on Spark Connect
        return os.cpu_count() or 1


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return str(n)


def _optimized_by(o: Mapping[str, Any]) -> str | None:
    """How OPTIMIZE ordered a table's rows: ``Z-order: a, b``, ``clustering: a, b``, or None (compaction only)."""
    if o["zorder_by"]:
        return "Z-order: " + ", ".join(o["zorder_by"])
    if o["cluster_by"]:
        return "clustering: " + ", ".join(o["cluster_by"])
    return None


def _markdown(rows: list[dict[str, Any]]) -> str:
    """One line per table: what OPTIMIZE and VACUUM did to it."""

    def line(row: dict[str, Any]) -> list[Any]:
        o, v = row.get("optimize"), row.get("vacuum")
        return [
            row["table"],
            _optimized_by(o) if o else None,
            f"{o['files_removed']} → {o['files_added']}" if o else None,
            f"{_size(o['bytes_removed'])} → {_size(o['bytes_added'])}" if o else None,
            str(v["files_deleted"]) if v else None,
            _size(v["bytes_deleted"]) if v else None,
            f"{row['seconds']:.1f}",
            row["status"],
        ]

    headers = ["table", "OPTIMIZE by", "files removed → added", "bytes removed → added",
               "VACUUM files deleted", "bytes deleted", "seconds", "status"]  # fmt: skip
    return markdown_table(headers, [line(row) for row in rows], left=None)


@dg.op(
    name=MAINTENANCE_OP,
    out=dg.Out(dg.Nothing, description="Nothing; the metadata says what was done to each table."),
    description="OPTIMIZE each table (locally Z-ordered by its zorder_columns; on Unity Catalog clustered by its "
    "liquid clustering columns) and VACUUM it with the configured retention; a table that does not exist yet is "
    "skipped. Records each table's result as an asset observation.",
)
def maintain_tables(
    context: dg.OpExecutionContext,
    config: MaintenanceConfig,
    spark: LazyPySparkResource,
    step_launcher: StepLauncherParam,
    catalog: CatalogAccess,
) -> Iterator[dg.AssetObservation | dg.Output]:
    rows: list[dict[str, Any]] = []
    for table in config.tables:
        identifier = catalog.location.table_identifier(table)
        started = time.monotonic()
        row: dict[str, Any] = {"table": table}
        if not catalog.location.is_stored(spark.spark_session, table):
            context.log.info(f"{table}: skipped, the table does not exist yet ({identifier})")
            row.update(status="skipped: does not exist yet", seconds=0.0)
            rows.append(row)
            yield dg.AssetObservation(
                asset_key=table, metadata={"maintenance": "skipped: the table does not exist yet"}
            )
            continue
        session = spark.spark_session
        try:
            # Unity Catalog tables have liquid clustering, which OPTIMIZE applies by itself (no ZORDER BY).
            zorder_by = ZORDER_COLUMNS.get(table, []) if config.zorder and not catalog.location.managed else []
            done = optimize(session, identifier, zorder_by)
            row["optimize"] = asdict(done)
            by = f" ZORDER BY ({', '.join(zorder_by)})" if zorder_by else ""
            if done.cluster_by:
                by = f" (liquid clustering by {', '.join(done.cluster_by)})"
            context.log.info(
                f"{table}: OPTIMIZE{by} rewrote "
                f"{done.files_removed} file(s) into {done.files_added} ({_size(done.bytes_removed)} → {_size(done.bytes_added)}"
                f"{'' if done.version is not None else ', nothing to rewrite'}) in {done.seconds:.1f}s"
            )
            # Locally, list files in as many tasks as the session has cores, not Spark's 10,000.
            listing = None if catalog.location.managed else _cores(session)
            vacuumed = vacuum(
                session, identifier, config.retention_hours, config.allow_retention_below_default, listing
            )
            row["vacuum"] = asdict(vacuumed)
            context.log.info(
                f"{table}: VACUUM RETAIN {config.retention_hours} HOURS deleted {vacuumed.files_deleted} file(s) "
                f"({_size(vacuumed.bytes_deleted)}) in {vacuumed.seconds:.1f}s"
            )
            row["status"] = "maintained"
        except Exception as error:  # noqa: BLE001 - one table's failure must not stop the others; the run fails at the end
            context.log.error(f"{table}: maintenance failed: {error}")
            row["status"] = f"FAILED: {str(error).splitlines()[0][:200]}"
        row["seconds"] = round(time.monotonic() - started, 2)
        rows.append(row)
        observation: dict[str, Any] = {"maintenance": row["status"], "seconds": row["seconds"]}
        if "optimize" in row:
            o = row["optimize"]
            observation.update(
                {
                    "zorder_by": ", ".join(o["zorder_by"]) or "(none)",
                    "clustering_columns": ", ".join(o["cluster_by"]) or "(none)",
                    "optimize_files_removed": o["files_removed"],
                    "optimize_files_added": o["files_added"],
                    "optimize_bytes_removed": o["bytes_removed"],
                    "optimize_bytes_added": o["bytes_added"],
                }
            )
        if "vacuum" in row:
            v = row["vacuum"]
            observation.update(
                {
                    "retention_hours": v["retention_hours"],
                    "vacuum_files_deleted": v["files_deleted"],
                    "vacuum_bytes_deleted": v["bytes_deleted"],
                }
            )
        version = (row.get("vacuum") or {}).get("version") or (row.get("optimize") or {}).get("version")
        if version is not None:
            observation["delta_version"] = version
        yield dg.AssetObservation(asset_key=table, metadata=observation)

    failed = [row["table"] for row in rows if row["status"].startswith("FAILED")]
    metadata: dict[str, dg.RawMetadataValue] = {
        "tables": dg.MetadataValue.md(_markdown(rows)),
        "results": dg.MetadataValue.json(rows),
        "retention_hours": config.retention_hours,
        "zorder": config.zorder,
        "tables_maintained": sum(row["status"] == "maintained" for row in rows),
        "tables_skipped": [row["table"] for row in rows if row["status"].startswith("skipped")],
        "optimize_files_removed": sum(row["optimize"]["files_removed"] for row in rows if "optimize" in row),
        "optimize_files_added": sum(row["optimize"]["files_added"] for row in rows if "optimize" in row),
        "vacuum_files_deleted": sum(row["vacuum"]["files_deleted"] for row in rows if "vacuum" in row),
    }
    if failed:
        raise dg.Failure(
            description=f"Maintenance failed on {', '.join(failed)} (the other tables were done)", metadata=metadata
        )
    yield dg.Output(None, metadata=metadata)


@dg.job(
    name=MAINTENANCE_JOB,
    description="OPTIMIZE (locally Z-ordered by each table's zorder_columns, on Unity Catalog clustered by its "
    "liquid clustering columns) and VACUUM every table of the graph, and record what was done. Scheduled weekly by weekly_table_maintenance (off by default).",
)
def maintenance_job() -> None:
    maintain_tables()


maintenance_schedule = dg.ScheduleDefinition(
    name=MAINTENANCE_SCHEDULE,
    job=maintenance_job,
    cron_schedule=MAINTENANCE_CRON,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Table maintenance (OPTIMIZE and VACUUM, default config) every Sunday at 03:00 UTC. Off until turned on.",
)
