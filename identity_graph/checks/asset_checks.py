"""Asset checks: the target's permissions, and the data contract's invariants on every table.

The primary-key and foreign-key checks are blocking: when one fails, its table's step fails
and the assets downstream of the table do not build on it in the same run; a failed
permission check stops its table's step before the table is generated. The other invariants report at ERROR severity without blocking. Counts and
distributions are compared with the config the table's generating write recorded in its
Delta commit (not with the Dagster instance's materialisations, so tables written from
another instance are checked against their own config); distribution checks report as WARN.
Every check reads the stored Delta tables, so the same checks run after a materialisation
and alone (the ``check_identity_graph`` job, ``identity-graph check``).

The data checks are declared once, as data (:data:`DATA_CHECKS`). They run in their table's
asset step (:func:`identity_graph.assets.checked_asset`): the permission check before the
table is generated, the data checks (:func:`run_data_checks`) after it is written.
"""

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
from dagster_pyspark import LazyPySparkResource
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from identity_graph.checks import integrity, noise
from identity_graph.checks.integrity import Finding
from identity_graph.config.campaigns import ResponsesConfig
from identity_graph.config.engagement import AudienceConfig
from identity_graph.config.identity import DemographicsConfig, HouseholdsConfig, IdentifiersConfig
from identity_graph.config.observations import ObservationsConfig
from identity_graph.generation import random as R
from identity_graph.model import EVENT_DATE, FOREIGN_KEYS, TABLES, ForeignKey, Table
from identity_graph.model import table as declared
from identity_graph.model import tables as M
from identity_graph.model.vocabularies import (
    ASSIGNMENT_GROUPS,
    CHANNEL_IDENTIFIER,
    DEVICE_IDENTIFIER,
    GENERATION_MIN_AGE_GAP,
    NON_CLICKABLE_CHANNELS,
    PARTNER_MAX_AGE_GAP,
)
from identity_graph.partitions import EVENTS_START, daily_partitions
from identity_graph.profiles import PROFILES, Profile, responses_by_propensity_decile
from identity_graph.resources.catalog import CatalogAccess
from identity_graph.resources.delta_io_manager import not_stored
from identity_graph.resources.location import TableLocation

PERMISSIONS_CHECK = "target_permissions"
PRIMARY_KEY_CHECK = "primary_key_unique"
PROFILE_CHECK = "profile"
#: A configured share is realised when it is within this many standard errors (or 1 point).
SHARE_STANDARD_ERRORS = 4.0
SHARE_FLOOR = 0.01
#: Response rate of the top propensity decile over the bottom one, at least.
PROPENSITY_LIFT = 3.0
ERROR, WARN = dg.AssetCheckSeverity.ERROR, dg.AssetCheckSeverity.WARN


# -- checks as data ----------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """What a rule found: the finding, a one-line summary, and figures to report beside it.

    ``outcome`` replaces the default "passed" / "failed: n of m rows" after the summary.
    """

    finding: Finding
    summary: str
    outcome: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class CheckContext:
    """What a rule is given beside the tables: its step's Dagster context, and what each table's
    generating write recorded in its Delta commit (:meth:`TableLocation.recorded`), read when a
    rule first asks for it and at most once per step."""

    dagster: dg.AssetExecutionContext
    location: TableLocation
    spark: LazyPySparkResource
    _records: dict[str, dict[str, Any] | None] = field(default_factory=dict, repr=False)

    def recorded(self, table: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The table config and generation settings ``table``'s Delta commit recorded (None when it recorded none)."""
        if table not in self._records:
            self._records[table] = self.location.recorded(self.spark.spark_session, table)
        record = self._records[table] or {}
        return record.get("config"), record.get("generation")


#: ``rule(context, stored, *parents)``: the verdict on the stored table, given its parents in declared order.
Rule = Callable[..., Verdict]


@dataclass(frozen=True)
class DataCheck:
    """One asset check on a stored table: its key, how it reports, and the rule computing it."""

    table: str
    name: str
    description: str
    rule: Rule
    parents: tuple[str, ...] = ()
    severity: dg.AssetCheckSeverity = ERROR
    blocking: bool = False

    @property
    def key(self) -> dg.AssetCheckKey:
        return dg.AssetCheckKey(dg.AssetKey(self.table), self.name)

    def spec(self) -> dg.AssetCheckSpec:
        """The Dagster spec: the parents are additional dependencies of the check."""
        return dg.AssetCheckSpec(
            self.name,
            asset=self.table,
            description=self.description,
            blocking=self.blocking,
            additional_deps=[dg.AssetKey(p) for p in self.parents],
        )

    def result(self, verdict: Verdict) -> dg.AssetCheckResult:
        """The check result: counts and figures as metadata, offending rows as a sample."""
        finding = verdict.finding
        metadata: dict[str, Any] = {"failing_rows": finding.failing, "checked_rows": finding.checked}
        metadata.update(finding.figures)
        metadata.update(verdict.metadata)
        if finding.sample:
            metadata["sample"] = dg.MetadataValue.json(finding.sample)
        outcome = verdict.outcome
        if outcome is None:
            outcome = "passed" if finding.passed else f"failed: {finding.failing:,} of {finding.checked:,} rows"
        return dg.AssetCheckResult(
            asset_key=self.table,
            check_name=self.name,
            passed=finding.passed,
            severity=self.severity,
            description=f"{verdict.summary} — {outcome}",
            metadata=metadata,
        )


# -- the checks of a table, run in its asset's step ---------------------------------------


def data_checks(table: str) -> list[DataCheck]:
    """The data checks of ``table``, in order of declaration."""
    return [c for c in DATA_CHECKS if c.table == table]


def read_stored(location: TableLocation, spark: SparkSession, table: str) -> DataFrame:
    """The stored table, every partition of it: what its checks read."""
    if not location.is_stored(spark, table):
        raise not_stored(location, table, "Table")
    return location.read(spark, table)


def run_data_checks(
    context: dg.AssetExecutionContext,
    table: str,
    checks: Sequence[DataCheck],
    location: TableLocation,
    spark: LazyPySparkResource,
) -> Iterator[dg.AssetCheckResult]:
    """The results of the ``checks`` of ``table`` selected for the run, on the stored tables.

    Each table a check reads is read once (every stored partition: checks see the whole table,
    after a run writing a few days as after a whole graph). A rule that raises does not stop the
    others: their results are reported, then the step fails naming the checks that errored.
    """
    selected = [c for c in checks if c.key in context.selected_asset_check_keys]
    if not selected:
        return
    given = CheckContext(context, location, spark)
    frames: dict[str, DataFrame] = {}

    def stored(name: str) -> DataFrame:
        if name not in frames:
            frames[name] = read_stored(location, spark.spark_session, name)
        return frames[name]

    context.log.info(f"Checking {location.table_name(table)}: {len(selected)} check(s)")
    errors: list[tuple[DataCheck, Exception]] = []
    for check in selected:
        try:
            verdict = check.rule(given, stored(table), *(stored(p) for p in check.parents))
        except dg.Failure:
            raise
        except Exception as error:  # noqa: BLE001 - reported below, after the other checks' results
            context.log.error(f"{table}.{check.name} raised {type(error).__name__}: {error}")
            errors.append((check, error))
            continue
        yield check.result(verdict)
    if errors:
        raise dg.Failure(
            description=f"{len(errors)} check(s) of {table} raised: " + ", ".join(c.name for c, _ in errors)
        ) from errors[0][1]


# -- the permission check --------------------------------------------------------------


def permission_spec(table: str) -> dg.AssetCheckSpec:
    """The ``target_permissions`` check of ``table``: asks the catalog, reads no data.

    Not blocking for Dagster: its table's step itself stops before generating when it fails (so
    nothing downstream is built on the table), while a run of permission checks alone reports every
    table's instead of skipping the tables downstream of a failed one.
    """
    return dg.AssetCheckSpec(
        PERMISSIONS_CHECK,
        asset=table,
        description="The target catalog lets this identity write the table: every missing privilege is "
        "listed with the statement that grants it. Verified before the table is written; when it fails, "
        "the table is not generated.",
    )


def permission_result(catalog: CatalogAccess, table: str) -> dg.AssetCheckResult:
    """The ``target_permissions`` result of ``table``: what the catalog lets this identity do."""
    report = catalog.verify([table])
    return dg.AssetCheckResult(
        asset_key=table,
        check_name=PERMISSIONS_CHECK,
        passed=report.ok,
        severity=dg.AssetCheckSeverity.ERROR,
        description=report.describe(),
        metadata={
            "location": report.location,
            "checked": dg.MetadataValue.json(list(report.checked)),
            "missing": dg.MetadataValue.md(report.markdown()),
            "statements": dg.MetadataValue.json(list(report.statements())),
        },
    )


# -- keys ------------------------------------------------------------------------------


def primary_key(table: Table) -> DataCheck:
    """The blocking check that the model's primary key of ``table`` is a primary key of the stored table."""
    key = table.primary_key

    def rule(context: Any, stored: DataFrame) -> Verdict:
        return Verdict(integrity.duplicate_keys(stored, key), f"{table.name}.{key} unique")

    return DataCheck(table.name, PRIMARY_KEY_CHECK, f"{key} is never NULL and never repeats.", rule, blocking=True)


def foreign_key(table: Table, fk: ForeignKey) -> DataCheck:
    """The blocking check that every non-NULL ``fk.column`` of ``table`` has its parent row."""

    def rule(context: Any, stored: DataFrame, parent: DataFrame) -> Verdict:
        finding = integrity.orphans(stored, fk.column, parent, fk.parent_column, table.primary_key)
        return Verdict(finding, f"{table.name}.{fk.column} → {fk.target}", metadata={"orphans": finding.failing})

    return DataCheck(
        table.name,
        f"foreign_key_{fk.column}",
        f"Every non-NULL {fk.column} exists in {fk.target} (orphan count and sample).",
        rule,
        parents=(fk.table,),
        blocking=True,
    )


# -- invariants: one function per rule -------------------------------------------------


def _window(context: CheckContext, table: str) -> tuple[str, str]:
    """[first partition day, last complete day]: the days a run may write."""
    return EVENTS_START, daily_partitions.get_last_partition_key() or EVENTS_START


def _inside_window(table: str, ts_column: str) -> Rule:
    """Rule: ``ts_column`` falls on the row's event_date, inside the days any run may have written."""

    def rule(context: CheckContext, stored: DataFrame) -> Verdict:
        first, last = _window(context, table)
        holds = (
            (F.col(EVENT_DATE) >= F.lit(first))
            & (F.col(EVENT_DATE) <= F.lit(last))
            & (F.to_date(F.col(ts_column)) == F.col(EVENT_DATE))
        )
        key = declared(table).primary_key
        finding = integrity.violations(stored, holds, [key, ts_column, EVENT_DATE], [key])
        return Verdict(
            finding,
            f"{ts_column} falls on its event_date, inside [{first}, {last}]",
            metadata={"window_start": first, "window_end": last},
        )

    return rule


def _first_seen_not_after_last_seen(context: Any, stored: DataFrame) -> Verdict:
    """Rule: first_seen ≤ last_seen on every identifier."""
    finding = integrity.violations(
        stored, F.col("first_seen") <= F.col("last_seen"), ["mapping_id", "first_seen", "last_seen"], ["mapping_id"]
    )
    return Verdict(finding, "first_seen ≤ last_seen")


def _household_sizes(context: Any, stored: DataFrame, households: DataFrame) -> Verdict:
    """Rule: each household has exactly household_size individuals."""
    return Verdict(
        integrity.household_sizes(stored, households), "each household has exactly household_size individuals"
    )


def _income_within_bracket(context: Any, stored: DataFrame, households: DataFrame) -> Verdict:
    """Rule: each household's members' incomes add up inside its income_bracket."""
    return Verdict(
        integrity.income_within_bracket(stored, households),
        "members' incomes (unemployed 0) add up inside the household's income_bracket "
        "(below its upper edge when an earner did not disclose)",
    )


def _household_roles(context: Any, stored: DataFrame) -> Verdict:
    """Rule: one head per household, at most one partner close to the head's age, children a generation younger."""
    return Verdict(
        integrity.household_roles(stored),
        f"one head, at most one partner within {PARTNER_MAX_AGE_GAP} years of the head's age, "
        f"children ≥ {GENERATION_MIN_AGE_GAP} years younger and parents ≥ {GENERATION_MIN_AGE_GAP} years older than the head",
    )


def _views_carry_duration(context: Any, stored: DataFrame) -> Verdict:
    """Rule: duration_seconds ≥ 0 on views, NULL on every other engagement."""
    is_view = F.col("engagement_type") == "view"
    holds = F.when(is_view, F.col("duration_seconds") >= 0).otherwise(F.col("duration_seconds").isNull())
    finding = integrity.violations(stored, holds, ["event_id", "engagement_type", "duration_seconds"], ["event_id"])
    return Verdict(finding, "duration_seconds ≥ 0 on views, NULL otherwise")


def _no_engagement_after_churn(context: Any, stored: DataFrame, truth: DataFrame) -> Verdict:
    """Rule: no engagement at or after its person's churned_at."""
    joined = stored.select("event_id", "individual_id", "event_ts").join(
        truth.where(F.col("churned_at").isNotNull()).select("individual_id", "churned_at"), "individual_id", "left"
    )
    holds = F.col("churned_at").isNull() | (F.col("event_ts") < F.col("churned_at"))
    return Verdict(
        integrity.violations(joined, holds, ["event_id", "individual_id", "event_ts", "churned_at"], ["event_id"]),
        "no engagement at or after the person's churned_at",
    )


def _churners_classed_churned(context: CheckContext, stored: DataFrame, truth: DataFrame) -> Verdict:
    """Rule: a churner whose churned_at is at least churn_inactive_days before computed_at is 'Churned'."""
    config, _ = context.recorded("audience_attributes")
    days = AudienceConfig.from_recorded(config).churn_inactive_days
    joined = stored.select("individual_id", "behavioral_classification", "computed_at").join(
        truth.where(F.col("churned_at").isNotNull()).select("individual_id", "churned_at"), "individual_id"
    )
    quiet_long_enough = F.unix_seconds("churned_at") <= F.unix_seconds("computed_at") - F.lit(days * 86_400)
    holds = ~quiet_long_enough | (F.col("behavioral_classification") == "Churned")
    columns = ["individual_id", "behavioral_classification", "churned_at", "computed_at"]
    return Verdict(
        integrity.violations(joined, holds, columns, ["individual_id"]),
        f"every churner (audience_truth) quiet for more than churn_inactive_days ({days}) is classed 'Churned'",
    )


def _affinities(context: Any, stored: DataFrame) -> Verdict:
    """Rule: affinity scores lie in [0, 1] and sum to 1 per person."""
    values = F.map_values("affinity_scores")
    total = F.aggregate(values, F.lit(0.0), lambda acc, v: acc + v)
    holds = F.forall(values, lambda v: (v >= 0) & (v <= 1)) & (F.abs(total - F.lit(1.0)) <= F.lit(1e-6))
    finding = integrity.violations(stored, holds, ["individual_id", "affinity_scores"], ["individual_id"])
    return Verdict(finding, "affinity_scores in [0, 1], summing to 1 ± 1e-6")


def _flight_dates(context: Any, stored: DataFrame) -> Verdict:
    """Rule: every campaign starts no later than it ends."""
    finding = integrity.violations(
        stored, F.col("start_date") <= F.col("end_date"), ["campaign_id", "start_date", "end_date"], ["campaign_id"]
    )
    return Verdict(finding, "start_date ≤ end_date")


def _inside_flight(context: Any, stored: DataFrame, campaigns: DataFrame) -> Verdict:
    """Rule: each exposure lies inside its campaign's dates and channels, its frequency within the cap."""
    joined = stored.join(
        campaigns.select("campaign_id", "start_date", "end_date", "channels", "frequency_cap"), "campaign_id", "left"
    )
    exposure_day = F.to_date("exposure_ts")
    holds = (
        (exposure_day >= F.col("start_date"))
        & (exposure_day <= F.col("end_date"))
        & F.array_contains("channels", F.col("channel"))
        & (F.col("frequency") >= 1)
        & (F.col("frequency") <= F.col("frequency_cap"))
    )
    columns = ["exposure_id", "campaign_id", "exposure_ts", "start_date", "end_date", "channel", "frequency"]
    return Verdict(
        integrity.violations(joined, holds, columns, ["exposure_id"]),
        "exposure inside its campaign's dates and channels, frequency within the cap",
    )


def _frequency_cap_held(context: Any, stored: DataFrame, campaigns: DataFrame) -> Verdict:
    """Rule: per (campaign, person), at most frequency_cap exposures stored, their frequencies rising
    with time (ordered by exposure_ts, then exposure_id) — so no ordinal repeats."""
    pair = Window.partitionBy("campaign_id", "individual_id")
    in_time = pair.orderBy("exposure_ts", "exposure_id")
    ranked = (
        stored.select("exposure_id", "campaign_id", "individual_id", "exposure_ts", "frequency")
        .withColumn("_exposures", F.count(F.lit(1)).over(pair))
        .withColumn("_previous", F.lag("frequency").over(in_time))
        .join(campaigns.select("campaign_id", "frequency_cap"), "campaign_id", "left")
    )
    holds = (F.col("_exposures") <= F.col("frequency_cap")) & (
        F.col("_previous").isNull() | (F.col("frequency") > F.col("_previous"))
    )
    columns = ["exposure_id", "campaign_id", "individual_id", "frequency", "_previous", "_exposures", "frequency_cap"]
    return Verdict(
        integrity.violations(ranked, holds, columns, ["exposure_id"]),
        "at most frequency_cap exposures per (campaign, person), frequency rising with exposure_ts",
    )


def _treatment_only(context: Any, stored: DataFrame, assignments: DataFrame) -> Verdict:
    """Rule: no exposure reaches a person in its campaign's holdout group."""
    holdout = assignments.where(F.col("group") == "holdout").select(
        "campaign_id", "individual_id", F.lit(True).alias("_in_holdout")
    )
    joined = stored.select("exposure_id", "campaign_id", "individual_id").join(
        holdout, ["campaign_id", "individual_id"], "left"
    )
    columns = ["exposure_id", "campaign_id", "individual_id", "_in_holdout"]
    return Verdict(
        integrity.violations(joined, F.col("_in_holdout").isNull(), columns, ["exposure_id"]),
        "no exposure of a person in the campaign's holdout group",
    )


def _assigned_at_flight_start(context: Any, stored: DataFrame, campaigns: DataFrame) -> Verdict:
    """Rule: each assignment's group is treatment or holdout and it was made at its campaign's flight start."""
    joined = stored.join(campaigns.select("campaign_id", "start_date"), "campaign_id", "left")
    holds = F.col("group").isin(*ASSIGNMENT_GROUPS) & (F.col("assigned_at") == F.col("start_date").cast("timestamp"))
    columns = ["assignment_id", "campaign_id", "individual_id", "group", "assigned_at", "start_date"]
    return Verdict(
        integrity.violations(joined, holds, columns, ["assignment_id"]),
        "group is treatment or holdout, assigned_at the flight's start (00:00 UTC)",
    )


def _holdout_shares(context: Any, stored: DataFrame, campaigns: DataFrame) -> Verdict:
    """Rule: each campaign's realised holdout share is within a few standard errors of its holdout_share."""
    rows = (
        stored.groupBy("campaign_id")
        .agg(F.count(F.lit(1)).alias("eligible"), F.count(F.when(F.col("group") == "holdout", 1)).alias("holdout"))
        .join(campaigns.select("campaign_id", "holdout_share"), "campaign_id", "left")
        .collect()
    )
    off = {}
    for r in rows:
        planned = r.holdout_share if r.holdout_share is not None else math.nan
        realised = r.holdout / r.eligible
        tolerance = max(SHARE_FLOOR, SHARE_STANDARD_ERRORS * math.sqrt(planned * (1 - planned) / r.eligible))
        if not abs(realised - planned) <= tolerance:
            off[str(r.campaign_id)] = {"planned": planned, "realised": round(realised, 4), "eligible": r.eligible}
    return Verdict(
        Finding(failing=len(off), checked=len(rows)),
        f"each campaign's holdout share within {SHARE_STANDARD_ERRORS:g} standard errors (or 1 point) of its "
        "holdout_share",
        metadata={"outside_tolerance": dg.MetadataValue.json(off)},
    )


def _after_exposure(context: Any, stored: DataFrame, exposures: DataFrame) -> Verdict:
    """Rule: each response follows its exposure as stored (its campaign, on its identifier), with
    time_to_conversion_hours exact; only a conversion may carry no exposure, and then no campaign,
    exposure_ts or time_to_conversion_hours either."""
    joined = stored.join(
        exposures.select(
            "exposure_id",
            F.col("campaign_id").alias("_exposure_campaign_id"),
            F.col("exposure_ts").alias("_stored_exposure_ts"),
            F.col("mapping_id").alias("_exposure_mapping_id"),
        ),
        "exposure_id",
        "left",
    )
    delay = F.unix_timestamp("response_ts") - F.unix_timestamp("exposure_ts")
    linked = (
        (F.col("exposure_ts") == F.col("_stored_exposure_ts"))
        & (F.col("campaign_id") == F.col("_exposure_campaign_id"))
        & (F.col("mapping_id") == F.col("_exposure_mapping_id"))
        & (F.col("response_ts") >= F.col("exposure_ts"))
        & (F.col("time_to_conversion_hours") == delay / F.lit(3600.0))
    )
    unlinked = (
        (F.col("response_type") == "conversion")
        & F.col("campaign_id").isNull()
        & F.col("exposure_ts").isNull()
        & F.col("time_to_conversion_hours").isNull()
    )
    holds = F.when(F.col("exposure_id").isNull(), unlinked).otherwise(linked)
    columns = [
        "response_id",
        "response_type",
        "exposure_id",
        "campaign_id",
        "_exposure_campaign_id",
        "exposure_ts",
        "_stored_exposure_ts",
        "mapping_id",
        "_exposure_mapping_id",
        "response_ts",
        "time_to_conversion_hours",
    ]
    return Verdict(
        integrity.violations(joined, holds, columns, ["response_id"]),
        "response at or after its exposure (campaign and exposure_ts as stored), on its identifier, "
        "time_to_conversion_hours exact; only conversions without an exposure",
    )


def _no_clicks_where_nothing_to_click(context: Any, stored: DataFrame, exposures: DataFrame) -> Verdict:
    """Rule: no click answers an exposure on a channel that cannot be clicked (``NON_CLICKABLE_CHANNELS``)."""
    clicks = stored.where(F.col("response_type") == "click").join(
        exposures.select("exposure_id", "channel"), "exposure_id", "left"
    )
    holds = ~F.coalesce(F.col("channel").isin(*NON_CLICKABLE_CHANNELS), F.lit(False))
    columns = ["response_id", "response_type", "exposure_id", "channel"]
    return Verdict(
        integrity.violations(clicks, holds, columns, ["response_id"]),
        f"no click on a {' or '.join(NON_CLICKABLE_CHANNELS)} exposure",
    )


def _causes_explain_every_conversion(
    context: Any, stored: DataFrame, exposures: DataFrame, responses: DataFrame
) -> Verdict:
    """Rule: conversion_truth has exactly one row per conversion of response_events; an organic
    conversion names no cause, a caused one names an exposure of the same person, of its
    cause_campaign_id, at or before the conversion."""
    conversions = responses.where(F.col("response_type") == "conversion").select(
        "response_id", F.col("individual_id").alias("_converter"), "response_ts", F.lit(True).alias("_is_conversion")
    )
    causes = exposures.select(
        F.col("exposure_id").alias("cause_exposure_id"),
        F.col("campaign_id").alias("_exposure_campaign_id"),
        F.col("individual_id").alias("_exposed"),
        "exposure_ts",
    )
    joined = (
        stored.select("response_id", "cause", "cause_campaign_id", "cause_exposure_id", F.lit(True).alias("_has_truth"))
        .join(conversions, "response_id", "full_outer")
        .join(causes, "cause_exposure_id", "left")
    )
    organic = (F.col("cause") == "organic") & F.col("cause_campaign_id").isNull() & F.col("cause_exposure_id").isNull()
    caused = (
        (F.col("cause") == "campaign")
        & (F.col("_exposure_campaign_id") == F.col("cause_campaign_id"))
        & (F.col("_exposed") == F.col("_converter"))
        & (F.col("exposure_ts") <= F.col("response_ts"))
    )
    holds = F.col("_has_truth") & F.col("_is_conversion") & (organic | caused)
    columns = [
        "response_id", "_has_truth", "_is_conversion", "cause", "cause_campaign_id", "cause_exposure_id",
        "_exposure_campaign_id", "_exposed", "_converter", "exposure_ts", "response_ts",
    ]  # fmt: skip
    return Verdict(
        integrity.violations(joined, holds, columns, ["response_id"]),
        "one truth row per conversion; organic names no cause, a caused one an earlier exposure of the same "
        "person and campaign",
    )


def _campaign_truth_consistent(context: Any, stored: DataFrame, assignments: DataFrame) -> Verdict:
    """Rule: campaign_truth's group sizes are campaign_assignments'; a zero-effect campaign has no lift
    and caused nothing; lifts are ≥ 0 and the relative lift is the absolute over the baseline."""
    sizes = assignments.groupBy("campaign_id").agg(
        F.count(F.when(F.col("group") == "treatment", 1)).alias("_treatment"),
        F.count(F.when(F.col("group") == "holdout", 1)).alias("_holdout"),
    )
    joined = stored.join(sizes, "campaign_id", "left")
    base, absolute = F.col("baseline_conversion_rate"), F.col("true_absolute_lift")
    relative = F.when(base > 0, absolute / base).otherwise(F.lit(0.0))
    holds = (
        (F.col("treatment_size") == F.coalesce(F.col("_treatment"), F.lit(0)))
        & (F.col("holdout_size") == F.coalesce(F.col("_holdout"), F.lit(0)))
        & (F.col("period_start") <= F.col("period_end"))
        & (absolute >= 0)
        & (F.abs(F.col("true_relative_lift") - relative) <= F.lit(1e-9) * F.greatest(F.lit(1.0), F.abs(relative)))
        & ((F.col("effect") > 0) | ((absolute == 0) & (F.col("true_incremental_conversions") == 0)))
    )
    columns = [
        "campaign_id", "treatment_size", "_treatment", "holdout_size", "_holdout", "effect",
        "baseline_conversion_rate", "true_absolute_lift", "true_relative_lift", "true_incremental_conversions",
    ]  # fmt: skip
    return Verdict(
        integrity.violations(joined, holds, columns, ["campaign_id"]),
        "group sizes as assigned; a zero-effect campaign has no lift and caused nothing; relative = absolute ÷ baseline",
    )


def _delivery_matches_exposures(context: Any, stored: DataFrame, exposures: DataFrame) -> Verdict:
    """Rule: each campaign's impressions and spend are its exposures' count and Σ cost over its period."""
    periods = stored.select("campaign_id", "period_start", "period_end")
    served = (
        exposures.select("campaign_id", "event_date", "cost")
        .join(F.broadcast(periods), "campaign_id")
        .where(F.col("event_date").between(F.col("period_start"), F.col("period_end")))
        .groupBy("campaign_id")
        .agg(F.count(F.lit(1)).alias("_served"), F.sum("cost").alias("_cost"))
    )
    joined = stored.join(served, "campaign_id", "left")
    holds = (F.col("impressions") == F.coalesce(F.col("_served"), F.lit(0))) & (
        F.col("spend") == F.coalesce(F.col("_cost"), F.lit(0))
    )
    columns = ["campaign_id", "period_start", "period_end", "impressions", "_served", "spend", "_cost"]
    return Verdict(
        integrity.violations(joined, holds, columns, ["campaign_id"]),
        "impressions and spend are the campaign's exposures and their cost over its period",
    )


def _budget_planned(context: Any, stored: DataFrame, campaigns: DataFrame) -> Verdict:
    """Rule: the period lies inside the flight; budget is planned_impressions × cpm ÷ 1000 to half an
    impression; period_budget is the budget pro-rated to the period, rounded down to the cent."""
    joined = stored.join(campaigns.select("campaign_id", "start_date", "end_date", "cpm"), "campaign_id", "left")
    flight_days = F.datediff("end_date", "start_date") + F.lit(1)
    period_days = F.datediff("period_end", "period_start") + F.lit(1)
    # Exact in decimals: the budget's cents × period days ÷ flight days, floored.
    pro_rated = F.floor(
        (F.col("budget") * F.lit(100)).cast("decimal(30,0)")
        * period_days.cast("decimal(30,0)")
        / flight_days.cast("decimal(30,0)")
    ) / F.lit(100)
    planned_cost = F.col("planned_impressions").cast("decimal(20,0)") * F.col("cpm") / F.lit(1000)
    holds = (
        (F.col("start_date") <= F.col("period_start"))
        & (F.col("period_start") <= F.col("period_end"))
        & (F.col("period_end") <= F.col("end_date"))
        & (F.col("budget") >= 0)
        & (F.abs(planned_cost - F.col("budget")) <= F.col("cpm") / F.lit(2000))
        & (F.col("period_budget") == pro_rated)
    )
    columns = [
        "campaign_id", "start_date", "end_date", "period_start", "period_end", "cpm", "planned_impressions",
        "budget", "period_budget",
    ]  # fmt: skip
    return Verdict(
        integrity.violations(joined, holds, columns, ["campaign_id"]),
        "period inside the flight; budget = planned_impressions × cpm ÷ 1000; period_budget = budget pro-rated",
    )


def _spend_paced(context: Any, stored: DataFrame, campaigns: DataFrame) -> Verdict:
    """Rule: spend ≤ period_budget, and spend ≥ pacing_share × period_budget or short of it by less
    than a cent (exact decimals); pacing = spend ÷ period_budget."""
    joined = stored.join(campaigns.select("campaign_id", "pacing_share"), "campaign_id", "left")
    budget, spend = F.col("period_budget"), F.col("spend")
    floor = F.col("pacing_share").cast("decimal(10,9)") * budget
    pacing = F.when(budget > 0, spend.cast("double") / budget.cast("double")).otherwise(F.lit(0.0))
    holds = (
        (spend <= budget)
        & ((spend >= floor) | (spend > budget - F.lit(0.01)))
        & (F.abs(F.col("pacing") - pacing) <= F.lit(1e-9))
    )
    columns = ["campaign_id", "period_budget", "spend", "pacing_share", "pacing"]
    return Verdict(
        integrity.violations(joined, holds, columns, ["campaign_id"]),
        "spend within the pro-rated budget and at least pacing_share of it",
    )


def _engagements_on_identifiers(context: Any, stored: DataFrame, mappings: DataFrame) -> Verdict:
    """Rule: each engagement is observed on its person's identifier of its device's type, live at event_ts."""
    finding = integrity.observed_on_live_identifier(
        stored, "event_id", "event_ts", mappings, R.lookup(F.col("device_type"), DEVICE_IDENTIFIER)
    )
    return Verdict(finding, "observed on the person's identifier of the device's type, live at event_ts")


def _exposures_on_identifiers(context: Any, stored: DataFrame, mappings: DataFrame) -> Verdict:
    """Rule: an addressable exposure is served on its person's identifier of the channel, live at exposure_ts;
    a contextual one carries none."""
    finding = integrity.observed_on_live_identifier(
        stored,
        "exposure_id",
        "exposure_ts",
        mappings,
        R.lookup(F.col("channel"), CHANNEL_IDENTIFIER),
        observed=F.col("addressable"),
    )
    return Verdict(
        finding,
        "addressable exposures on the person's identifier of the channel, live at exposure_ts; "
        "the others with no mapping_id",
    )


def _responses_on_identifiers(context: Any, stored: DataFrame, mappings: DataFrame) -> Verdict:
    """Rule: each response is observed on an identifier of its person, live at response_ts (that it is the
    exposure's identifier is ``response_after_exposure``'s rule)."""
    finding = integrity.observed_on_live_identifier(stored, "response_id", "response_ts", mappings)
    return Verdict(finding, "observed on the person's identifier, live at response_ts")


def _weights(context: Any, stored: DataFrame) -> Verdict:
    """Rule: attribution weights sum to 1 per (response, model)."""
    return Verdict(
        integrity.attribution_weight_sums(stored), "attribution weights sum to 1 ± 1e-9 per (response, model)"
    )


def _requested_count(table: str, field: str, default: int) -> Rule:
    """Rule: ``table`` has as many rows as the config field ``field`` recorded in its Delta commit asked for."""

    def rule(context: CheckContext, stored: DataFrame) -> Verdict:
        config, _ = context.recorded(table)
        expected = int((config or {}).get(field, default))
        source = "recorded config" if config else "default config: the Delta commit recorded no config"
        finding = integrity.exact_count(stored, expected)
        return Verdict(finding, f"exactly {field} = {expected:,} rows ({source})", outcome=_count_outcome(finding))

    return rule


def _individuals_total(context: Any, stored: DataFrame, households: DataFrame) -> Verdict:
    """Rule: as many individuals as the households' sizes add up to."""
    expected = int(households.agg(F.coalesce(F.sum("household_size"), F.lit(0))).first()[0])
    finding = integrity.exact_count(stored, expected)
    return Verdict(finding, f"Σ household_size = {expected:,} rows", outcome=_count_outcome(finding))


def _count_outcome(finding: Finding) -> str:
    """The outcome of a row-count check: the rows found, not "n of m rows" failing."""
    return "passed" if finding.passed else f"failed: {finding.checked:,} rows"


# -- distributions (WARN) ---------------------------------------------------------------


def _share_rule(table: str, column: str, field: str, default: dict[str, float]) -> Rule:
    """Rule: the shares of ``column``'s values match the recorded weights ``field`` within a few standard errors."""

    def rule(context: CheckContext, stored: DataFrame) -> Verdict:
        config, _ = context.recorded(table)
        weights = dict((config or {}).get(field) or default)
        gaps, rows = integrity.share_gaps(stored, column, weights)
        tolerance = {
            c: max(SHARE_FLOOR, SHARE_STANDARD_ERRORS * math.sqrt(max(w * (1 - w), 0.0) / max(rows, 1)))
            for c, w in ((c, weights.get(c, 0.0)) for c in gaps)
        }
        off = {c: round(g, 4) for c, g in gaps.items() if abs(g) > tolerance[c]}
        return Verdict(
            Finding(failing=len(off), checked=len(gaps), figures={"rows": rows}),
            f"{column} shares within tolerance of {field}",
            metadata={
                "realised_minus_configured": dg.MetadataValue.json({c: round(g, 4) for c, g in gaps.items()}),
                "outside_tolerance": dg.MetadataValue.json(off),
            },
        )

    return rule


def _identifiers_per_individual(context: CheckContext, stored: DataFrame) -> Verdict:
    """Rule: identifiers per individual within the configured [min, max], their mean near the configured one."""
    config, _ = context.recorded("identity_mappings")
    settings = IdentifiersConfig.from_recorded(config)
    counts = integrity.rows_per_key(stored, "individual_id", settings.min_per_individual, settings.max_per_individual)
    mean = counts.figures["mean"]
    bad_mean = abs(mean - settings.mean_per_individual) > 0.05 * settings.mean_per_individual
    return Verdict(
        Finding(failing=counts.failing + int(bad_mean), checked=counts.checked),
        f"identifiers per individual in [{settings.min_per_individual}, {settings.max_per_individual}], "
        f"mean within 5 % of {settings.mean_per_individual}",
        metadata={"mean": mean, "configured_mean": settings.mean_per_individual},
    )


def _noise_rates(
    context: CheckContext, stored: DataFrame, observations: DataFrame, individuals: DataFrame, mappings: DataFrame
) -> Verdict:
    """Rule: each noise rate of identity_observations is realised, over its eligible records, within
    4.5 standard errors of the config recorded with the observations."""
    config, _ = context.recorded("identity_observations")
    rates = noise.realised_noise(observations, stored, individuals, mappings, ObservationsConfig.from_recorded(config))
    off = [r for r in rates if not r.passed]
    return Verdict(
        Finding(failing=len(off), checked=sum(r.judged for r in rates)),
        f"noise rates within {noise.STANDARD_ERRORS:g} standard errors of the recorded config "
        f"(rates over fewer than {noise.MIN_ELIGIBLE} eligible records are not judged)",
        outcome="passed"
        if not off
        else "failed: " + ", ".join(f"{r.noise} {r.realised:.4f} (expected {r.expected:.4f})" for r in off),
        metadata={
            "rates": dg.MetadataValue.json(
                {
                    r.noise: {
                        "eligible": r.eligible,
                        "flagged": r.flagged,
                        "realised": round(r.realised, 4),
                        "expected": round(r.expected, 4),
                        "judged": r.judged,
                    }
                    for r in rates
                }
            )
        },
    )


def _propensity_lift(context: CheckContext, stored: DataFrame, exposures: DataFrame, audience: DataFrame) -> Verdict:
    """Rule: the top propensity decile responds at least PROPENSITY_LIFT times as often as the bottom one."""
    config, _ = context.recorded("response_events")
    effect = ResponsesConfig.from_recorded(config).propensity_effect
    rows = responses_by_propensity_decile(stored, exposures, audience)
    rates = {r.decile: r.responded / r.exposed for r in rows if r.decile is not None and r.exposed}
    bottom, top = rates.get(1, 0.0), rates.get(10, 0.0)
    lift = top / bottom if bottom > 0 else (math.inf if top > 0 else 0.0)
    expected = effect > 0
    passed = lift >= PROPENSITY_LIFT if expected else True
    return Verdict(
        Finding(failing=0 if passed else 1, checked=len(rates)),
        f"top propensity decile responds at ≥ {PROPENSITY_LIFT:g}× the bottom decile's rate"
        + ("" if expected else " (not expected: propensity_effect is 0)"),
        metadata={
            "lift": lift if math.isfinite(lift) else -1.0,
            "rate_by_decile": dg.MetadataValue.json({str(d): round(r, 5) for d, r in sorted(rates.items())}),
        },
    )


def profile(table: str, entry: Profile) -> DataCheck:
    """The WARN check carrying ``table``'s profile (:mod:`identity_graph.profiles`) as markdown metadata.

    It passes whenever the profile can be computed; a profile that fails (a missing column, say)
    is reported as a failed warning with the error, never failing the run.
    """

    def rule(context: Any, stored: DataFrame, *needs: DataFrame) -> Verdict:
        try:
            markdown = entry.render(stored, *needs)
        except Exception as error:  # noqa: BLE001 - a profile is a view of the table, not a rule it must hold
            first_line = (str(error).strip().splitlines() or [""])[0][:500]
            return Verdict(
                Finding(failing=1, checked=1), "profile", outcome=f"not computed: {type(error).__name__}: {first_line}"
            )
        return Verdict(
            Finding(failing=0, checked=1),
            "profile",
            outcome="computed",
            metadata={"profile": dg.MetadataValue.md(markdown)},
        )

    reads = f" and {', '.join(entry.needs)}" if entry.needs else ""
    return DataCheck(
        table,
        PROFILE_CHECK,
        f"The table's profile for its page: distributions and KPIs of the stored {table}{reads}.",
        rule,
        parents=entry.needs,
        severity=WARN,
    )


#: Every check on stored data: keys first (blocking), then invariants (ERROR), then distributions
#: (WARN), then the profiles (WARN).
DATA_CHECKS: tuple[DataCheck, ...] = (
    *(primary_key(t) for t in TABLES),
    *(foreign_key(t, fk) for t, fk in FOREIGN_KEYS),
    DataCheck(
        "households", "requested_row_count", "Exactly num_households rows, as configured for the run that wrote them.",
        _requested_count("households", "num_households", HouseholdsConfig().num_households),
    ),
    DataCheck(
        "individuals", "individuals_per_household", "Each household has exactly household_size individuals.",
        _household_sizes, parents=("households",),
    ),
    DataCheck("individuals", "requested_row_count", "Exactly Σ household_size rows.", _individuals_total, parents=("households",)),
    DataCheck(
        "individuals", "income_within_household_bracket",
        "The members' incomes (the unemployed counting 0) add up inside their household's income_bracket; when an "
        "earner did not disclose, the disclosed incomes stay below the bracket's upper edge.",
        _income_within_bracket, parents=("households",),
    ),
    DataCheck(
        "individuals", "household_roles_consistent",
        f"Each household has one head and at most one partner, the partner within {PARTNER_MAX_AGE_GAP} years of "
        f"the head's age, every child at least {GENERATION_MIN_AGE_GAP} years younger and every parent at least "
        f"{GENERATION_MIN_AGE_GAP} years older than the head.",
        _household_roles,
    ),
    DataCheck(
        "identity_mappings", "first_seen_not_after_last_seen", "first_seen ≤ last_seen on every identifier.",
        _first_seen_not_after_last_seen,
    ),
    DataCheck(
        "content_engagements", "events_inside_window",
        "event_ts falls on event_date, and event_date inside the partitions' range (up to the last complete day).",
        _inside_window("content_engagements", "event_ts"),
    ),
    DataCheck(
        "content_engagements", "duration_for_views_only", "duration_seconds is set (≥ 0) for views and NULL otherwise.",
        _views_carry_duration,
    ),
    DataCheck(
        "content_engagements", "observed_on_live_identifier",
        "Each engagement carries the identifier it was observed on: the person's own, of the device's type "
        f"({', '.join(f'{d} → {t}' for d, t in DEVICE_IDENTIFIER.items())}), with first_seen ≤ event_ts ≤ last_seen.",
        _engagements_on_identifiers, parents=("identity_mappings",),
    ),
    DataCheck(
        "content_engagements", "no_engagement_after_churn",
        "No engagement at or after its person's churned_at (audience_truth): churners engage no more.",
        _no_engagement_after_churn, parents=("audience_truth",),
    ),
    DataCheck(
        "audience_attributes", "churners_classed_churned",
        "Every person who churned (audience_truth.churned_at) at least churn_inactive_days before computed_at is "
        "classed 'Churned'.",
        _churners_classed_churned, parents=("audience_truth",),
    ),
    DataCheck(
        "audience_attributes", "affinities_sum_to_one", "affinity_scores lie in [0, 1] and sum to 1 ± 1e-6 per person.",
        _affinities,
    ),
    DataCheck(
        "campaigns", "requested_row_count", "Exactly num_campaigns rows, as configured.", _requested_count("campaigns", "num_campaigns", 20),
    ),
    DataCheck("campaigns", "flight_dates_ordered", "start_date ≤ end_date.", _flight_dates),
    DataCheck(
        "campaign_assignments", "assigned_at_flight_start",
        "Each assignment's group is 'treatment' or 'holdout', and assigned_at is its campaign's start_date at 00:00 UTC.",
        _assigned_at_flight_start, parents=("campaigns",),
    ),
    DataCheck(
        "campaign_exposures", "treatment_group_only",
        "No exposure reaches a person in its campaign's holdout group (campaign_assignments): a holdout is never "
        "exposed.",
        _treatment_only, parents=("campaign_assignments",),
    ),
    DataCheck(
        "campaign_exposures", "inside_campaign_flight",
        "Each exposure falls inside its campaign's dates, on one of its channels, with frequency in [1, cap].",
        _inside_flight, parents=("campaigns",),
    ),
    DataCheck(
        "campaign_exposures", "frequency_cap_held",
        "Per (campaign, person), at most the campaign's frequency_cap exposures, and frequency rises with exposure_ts "
        "(a person's n-th exposure to a campaign carries a larger ordinal than their earlier ones).",
        _frequency_cap_held, parents=("campaigns",),
    ),
    DataCheck(
        "campaign_exposures", "observed_on_live_identifier",
        "An addressable exposure carries the identifier it was served on: the person's own, of the channel's type, "
        "with first_seen ≤ exposure_ts ≤ last_seen; an exposure that is not addressable carries none.",
        _exposures_on_identifiers, parents=("identity_mappings",),
    ),
    DataCheck(
        "campaign_exposures", "events_inside_window",
        "exposure_ts falls on event_date, inside the partitions' range (up to the last complete day).",
        _inside_window("campaign_exposures", "exposure_ts"),
    ),
    DataCheck(
        "response_events", "response_after_exposure",
        "Each response is at or after its exposure's exposure_ts, of its campaign, observed on the exposure's "
        "identifier (mapping_id), and time_to_conversion_hours is exact; only a conversion may carry no exposure "
        "(then no campaign, exposure_ts or time_to_conversion_hours).",
        _after_exposure, parents=("campaign_exposures",),
    ),
    DataCheck(
        "response_events", "no_clicks_on_ctv_or_audio",
        "No click answers an exposure on CTV or audio, whose impressions cannot be clicked (their responses are "
        "site visits and view-through conversions).",
        _no_clicks_where_nothing_to_click, parents=("campaign_exposures",),
    ),
    DataCheck(
        "response_events", "observed_on_live_identifier",
        "Each response carries the identifier it was observed on, the person's own, with first_seen ≤ response_ts ≤ "
        "last_seen.",
        _responses_on_identifiers, parents=("identity_mappings",),
    ),
    DataCheck(
        "response_events", "events_inside_window",
        "response_ts falls on event_date, inside the partitions' range (up to the last complete day).",
        _inside_window("response_events", "response_ts"),
    ),
    DataCheck(
        "conversion_truth", "causes_explain_every_conversion",
        "One row per conversion of response_events; an organic conversion names no campaign or exposure, a caused "
        "one an exposure of the same person and of cause_campaign_id at or before the conversion.",
        _causes_explain_every_conversion, parents=("campaign_exposures", "response_events"),
    ),
    DataCheck(
        "campaign_truth", "truth_consistent_with_assignments",
        "Treatment and holdout sizes are campaign_assignments'; a zero-effect campaign has no lift and caused no "
        "conversion; lifts are ≥ 0 and true_relative_lift = true_absolute_lift ÷ baseline_conversion_rate.",
        _campaign_truth_consistent, parents=("campaign_assignments",),
    ),
    DataCheck(
        "campaign_delivery", "delivery_matches_exposures",
        "impressions and spend are the count and Σ cost of the campaign's exposures (campaign_exposures) on the days "
        "of its period.",
        _delivery_matches_exposures, parents=("campaign_exposures",),
    ),
    DataCheck(
        "campaign_delivery", "budget_is_planned_impressions_at_cpm",
        "The period lies inside the flight; budget is planned_impressions × cpm ÷ 1000 (to half an impression); "
        "period_budget is the budget × period days ÷ flight days, rounded down to the cent.",
        _budget_planned, parents=("campaigns",),
    ),
    DataCheck(
        "campaign_delivery", "spend_within_paced_budget",
        "spend never exceeds period_budget and reaches the campaign's pacing_share of it (or falls short of it by "
        "less than a cent); pacing is spend ÷ period_budget.",
        _spend_paced, parents=("campaigns",),
    ),
    DataCheck(
        "outcome_metrics", "attribution_weights_sum_to_one",
        "Attribution weights sum to 1 ± 1e-9 per (response_id, attribution_model).", _weights,
    ),
    # Distributions: realised against configured, reported as warnings.
    DataCheck(
        "households", "income_bracket_mix", "income_bracket shares match income_bracket_weights within tolerance.",
        _share_rule("households", "income_bracket", "income_bracket_weights", HouseholdsConfig().income_bracket_weights),
        severity=WARN,
    ),
    DataCheck(
        "individuals", "gender_mix", "gender shares match gender_weights within tolerance.",
        _share_rule("individuals", "gender", "gender_weights", DemographicsConfig().gender_weights),
        severity=WARN,
    ),
    DataCheck(
        "identity_mappings", "identifiers_per_individual",
        "Identifiers per individual within [min, max] and their mean near mean_per_individual.",
        _identifiers_per_individual, severity=WARN,
    ),
    DataCheck(
        "campaign_assignments", "holdout_share_as_planned",
        "Each campaign's share of its eligible audience in the holdout is within 4 standard errors (or 1 point) of "
        "its holdout_share.",
        _holdout_shares, parents=("campaigns",), severity=WARN,
    ),
    DataCheck(
        "response_events", "response_rate_rises_with_propensity",
        "The top propensity decile draws clicks, engagements and visits at ≥ 3× the bottom decile's rate.",
        _propensity_lift, parents=("campaign_exposures", "audience_attributes"), severity=WARN,
    ),
    DataCheck(
        "identity_truth", "noise_rates_as_configured",
        "Each noise rate of identity_observations (typos, nicknames, moves, shared and recycled identifiers, "
        "resets, duplicates, missing fields per source) is realised over its eligible records within 4.5 "
        "standard errors of the recorded config.",
        _noise_rates, parents=(M.IDENTITY_OBSERVATIONS.name, M.INDIVIDUALS.name, M.IDENTITY_MAPPINGS.name), severity=WARN,
    ),
    *(profile(table, entry) for table, entry in PROFILES.items()),
)  # fmt: skip
