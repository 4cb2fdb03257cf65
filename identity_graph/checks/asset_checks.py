"""Asset checks: the target's permissions, and the data contract's invariants on every table.

The permission, primary-key and foreign-key checks are blocking: when one fails, the
assets downstream of its table do not build on it in the same run (and, in a run of
checks alone, the checks reading that table are skipped). The other invariants report
at ERROR severity without blocking. Distribution checks compare what was generated
with the config recorded at materialisation and report as WARN. Every check reads the stored
Delta table through the IO manager, so the same checks run after a materialisation and
alone (the ``check_identity_graph`` job, ``identity-graph check``).
"""


import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from identity_graph.checks import integrity
from identity_graph.checks.integrity import Finding
from identity_graph.config.campaigns import ResponsesConfig
from identity_graph.config.identity import DemographicsConfig, HouseholdsConfig, IdentifiersConfig
from identity_graph.partitions import EVENT_DATE, EVENTS_START
from identity_graph.resources.catalog import ALL_TABLES, CatalogAccess

PERMISSIONS_CHECK = "target_permissions"
PRIMARY_KEY_CHECK = "primary_key_unique"
#: A configured share is realised when it is within this many standard errors (or 1 point).
SHARE_STANDARD_ERRORS = 4.0
SHARE_FLOOR = 0.01
#: Response rate of the top propensity decile over the bottom one, at least.
PROPENSITY_LIFT = 3.0

PRIMARY_KEYS = {
    "households": "household_id",
    "individuals": "individual_id",
    "identity_mappings": "mapping_id",
    "content_engagements": "event_id",
    "viewership_patterns": "individual_id",
    "audience_attributes": "individual_id",
    "campaigns": "campaign_id",
    "campaign_exposures": "exposure_id",
    "response_events": "response_id",
    "outcome_metrics": "outcome_id",
}


@dataclass(frozen=True)
class ForeignKey:
    """``table.column`` references ``parent.parent_column`` (NULLs reference nothing)."""

    table: str
    column: str
    parent: str
    parent_column: str

    @property
    def check_name(self) -> str:
        return f"foreign_key_{self.column}"


#: Every FK edge of the data contract (../shared/DATA_MODEL.md), plus the exposure's mapping_id.
FOREIGN_KEYS = (
    ForeignKey("individuals", "household_id", "households", "household_id"),
    ForeignKey("identity_mappings", "individual_id", "individuals", "individual_id"),
    ForeignKey("content_engagements", "individual_id", "individuals", "individual_id"),
    ForeignKey("viewership_patterns", "individual_id", "individuals", "individual_id"),
    ForeignKey("audience_attributes", "individual_id", "individuals", "individual_id"),
    ForeignKey("campaign_exposures", "campaign_id", "campaigns", "campaign_id"),
    ForeignKey("campaign_exposures", "individual_id", "individuals", "individual_id"),
    ForeignKey("campaign_exposures", "mapping_id", "identity_mappings", "mapping_id"),
    ForeignKey("response_events", "exposure_id", "campaign_exposures", "exposure_id"),
    ForeignKey("response_events", "campaign_id", "campaigns", "campaign_id"),
    ForeignKey("response_events", "individual_id", "individuals", "individual_id"),
    ForeignKey("outcome_metrics", "response_id", "response_events", "response_id"),
    ForeignKey("outcome_metrics", "exposure_id", "campaign_exposures", "exposure_id"),
    ForeignKey("outcome_metrics", "campaign_id", "campaigns", "campaign_id"),
)


# -- results ---------------------------------------------------------------------------


def check_result(
    finding: Finding,
    summary: str,
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
    outcome: str | None = None,
    **extra: Any,
) -> dg.AssetCheckResult:
    """A check result from a finding: counts and figures as metadata, offending rows as a sample."""
    metadata: dict[str, Any] = {"failing_rows": finding.failing, "checked_rows": finding.checked}
    metadata.update({k: v for k, v in finding.figures.items()})
    metadata.update(extra)
    if finding.sample:
        metadata["sample"] = dg.MetadataValue.json(finding.sample)
    if outcome is None:
        outcome = "passed" if finding.passed else f"failed: {finding.failing:,} of {finding.checked:,} rows"
    return dg.AssetCheckResult(passed=finding.passed, severity=severity, description=f"{summary} — {outcome}", metadata=metadata)


def recorded(context: dg.AssetCheckExecutionContext, table: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The config and generation settings recorded by the table's latest materialisation (None when unrecorded)."""
    event = context.instance.get_latest_materialization_event(dg.AssetKey(table))
    materialization = event.asset_materialization if event is not None else None
    metadata = materialization.metadata if materialization is not None else {}
    config, generation = metadata.get("config"), metadata.get("generation")
    return (config.value if config is not None else None), (generation.value if generation is not None else None)  # type: ignore[union-attr]


def _all_of(table: str) -> dg.AssetIn:
    # Every stored partition: a parent read for one run's days alone would make older rows look orphaned.
    return dg.AssetIn(key=dg.AssetKey(table), partition_mapping=dg.AllPartitionMapping())


# -- the permission check --------------------------------------------------------------


def permission_check(table: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(table),
        name=PERMISSIONS_CHECK,
        blocking=True,
        description="The target catalog lets this identity write the table: every missing privilege is "
        "listed with the statement that grants it. Runs that write tables also verify this before generating.",
    )
    def _check(context: dg.AssetCheckExecutionContext, catalog: CatalogAccess) -> dg.AssetCheckResult:
        report = catalog.verify([table])
        return dg.AssetCheckResult(
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

    return _check


# -- keys ------------------------------------------------------------------------------


def primary_key_check(table: str, key: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(table),
        name=PRIMARY_KEY_CHECK,
        blocking=True,
        description=f"{key} is never NULL and never repeats.",
    )
    def _check(context: dg.AssetCheckExecutionContext, stored: DataFrame) -> dg.AssetCheckResult:
        return check_result(integrity.duplicate_keys(stored, key), f"{table}.{key} unique")

    return _check


def foreign_key_check(fk: ForeignKey) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(fk.table),
        name=fk.check_name,
        blocking=True,
        additional_ins={"parent": _all_of(fk.parent)},
        description=f"Every non-NULL {fk.column} exists in {fk.parent}.{fk.parent_column} (orphan count and sample).",
    )
    def _check(context: dg.AssetCheckExecutionContext, stored: DataFrame, parent: DataFrame) -> dg.AssetCheckResult:
        finding = integrity.orphans(stored, fk.column, parent, fk.parent_column, PRIMARY_KEYS[fk.table])
        return check_result(finding, f"{fk.table}.{fk.column} → {fk.parent}.{fk.parent_column}", orphans=finding.failing)

    return _check


# -- invariants: one function per rule -------------------------------------------------

Rule = Callable[..., dg.AssetCheckResult]


def invariant_check(
    table: str,
    name: str,
    description: str,
    rule: Rule,
    parents: Sequence[str] = (),
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
) -> dg.AssetChecksDefinition:
    """An asset check on ``table`` computed by ``rule(context, stored, *parents)``; never blocking."""

    ins = {f"parent_{i}": _all_of(p) for i, p in enumerate(parents)}
    # Dagster reads a check's inputs from its signature: one parameter per parent table.
    if len(parents) == 0:

        def fn(context: dg.AssetCheckExecutionContext, stored: DataFrame) -> dg.AssetCheckResult:
            return rule(context, stored)

    elif len(parents) == 1:

        def fn(context: dg.AssetCheckExecutionContext, stored: DataFrame, parent_0: DataFrame) -> dg.AssetCheckResult:
            return rule(context, stored, parent_0)

    elif len(parents) == 2:

        def fn(
            context: dg.AssetCheckExecutionContext, stored: DataFrame, parent_0: DataFrame, parent_1: DataFrame
        ) -> dg.AssetCheckResult:
            return rule(context, stored, parent_0, parent_1)

    else:
        raise ValueError(f"{table}.{name}: at most two parent tables, got {list(parents)}")
    return dg.asset_check(
        asset=dg.AssetKey(table),
        name=name,
        blocking=False,
        additional_ins=ins,
        description=description,
    )(fn)


def _window(context: dg.AssetCheckExecutionContext, table: str) -> tuple[str, str]:
    """[first partition day, recorded end_date]: the days any run may have written."""
    _, generation = recorded(context, table)
    end = (generation or {}).get("end_date")
    return EVENTS_START, end or "9999-12-31"


def _inside_window(table: str, ts_column: str) -> Rule:
    def rule(context: dg.AssetCheckExecutionContext, stored: DataFrame) -> dg.AssetCheckResult:
        first, last = _window(context, table)
        holds = (F.col(EVENT_DATE) >= F.lit(first)) & (F.col(EVENT_DATE) <= F.lit(last)) & (
            F.to_date(F.col(ts_column)) == F.col(EVENT_DATE)
        )
        key = PRIMARY_KEYS[table]
        finding = integrity.violations(stored, holds, [key, ts_column, EVENT_DATE], [key])
        return check_result(finding, f"{ts_column} falls on its event_date, inside [{first}, {last}]", window_start=first, window_end=last)

    return rule


def _first_seen_not_after_last_seen(context: Any, stored: DataFrame) -> dg.AssetCheckResult:
    finding = integrity.violations(
        stored, F.col("first_seen") <= F.col("last_seen"), ["mapping_id", "first_seen", "last_seen"], ["mapping_id"]
    )
    return check_result(finding, "first_seen ≤ last_seen")


def _household_sizes(context: Any, stored: DataFrame, households: DataFrame) -> dg.AssetCheckResult:
    finding = integrity.household_sizes(stored, households)
    return check_result(finding, "each household has exactly household_size individuals")


def _views_carry_duration(context: Any, stored: DataFrame) -> dg.AssetCheckResult:
    is_view = F.col("engagement_type") == "view"
    holds = F.when(is_view, F.col("duration_seconds") >= 0).otherwise(F.col("duration_seconds").isNull())
    finding = integrity.violations(stored, holds, ["event_id", "engagement_type", "duration_seconds"], ["event_id"])
    return check_result(finding, "duration_seconds ≥ 0 on views, NULL otherwise")


def _affinities(context: Any, stored: DataFrame) -> dg.AssetCheckResult:
    values = F.map_values("affinity_scores")
    total = F.aggregate(values, F.lit(0.0), lambda acc, v: acc + v)
    holds = F.forall(values, lambda v: (v >= 0) & (v <= 1)) & (F.abs(total - F.lit(1.0)) <= F.lit(1e-6))
    finding = integrity.violations(stored, holds, ["individual_id", "affinity_scores"], ["individual_id"])
    return check_result(finding, "affinity_scores in [0, 1], summing to 1 ± 1e-6")


def _flight_dates(context: Any, stored: DataFrame) -> dg.AssetCheckResult:
    finding = integrity.violations(
        stored, F.col("start_date") <= F.col("end_date"), ["campaign_id", "start_date", "end_date"], ["campaign_id"]
    )
    return check_result(finding, "start_date ≤ end_date")


def _inside_flight(context: Any, stored: DataFrame, campaigns: DataFrame) -> dg.AssetCheckResult:
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
    return check_result(
        integrity.violations(joined, holds, columns, ["exposure_id"]),
        "exposure inside its campaign's dates and channels, frequency within the cap",
    )


def _after_exposure(context: Any, stored: DataFrame, exposures: DataFrame) -> dg.AssetCheckResult:
    joined = stored.join(
        exposures.select("exposure_id", F.col("exposure_ts").alias("_stored_exposure_ts")), "exposure_id", "left"
    )
    delay = F.unix_timestamp("response_ts") - F.unix_timestamp("exposure_ts")
    holds = (
        (F.col("exposure_ts") == F.col("_stored_exposure_ts"))
        & (F.col("response_ts") >= F.col("exposure_ts"))
        & (F.col("time_to_conversion_hours") == delay / F.lit(3600.0))
    )
    columns = ["response_id", "exposure_id", "exposure_ts", "_stored_exposure_ts", "response_ts", "time_to_conversion_hours"]
    return check_result(
        integrity.violations(joined, holds, columns, ["response_id"]),
        "response at or after its exposure (exposure_ts as stored), time_to_conversion_hours exact",
    )


def _weights(context: Any, stored: DataFrame) -> dg.AssetCheckResult:
    return check_result(integrity.attribution_weight_sums(stored), "attribution weights sum to 1 ± 1e-9 per (response, model)")


def _requested_count(table: str, field: str, default: int) -> Rule:
    def rule(context: dg.AssetCheckExecutionContext, stored: DataFrame) -> dg.AssetCheckResult:
        config, _ = recorded(context, table)
        expected = int((config or {}).get(field, default))
        source = "recorded config" if config else "default config (no recorded materialisation)"
        finding = integrity.exact_count(stored, expected)
        return check_result(finding, f"exactly {field} = {expected:,} rows ({source})", outcome=_count_outcome(finding))

    return rule


def _individuals_total(context: Any, stored: DataFrame, households: DataFrame) -> dg.AssetCheckResult:
    expected = int(households.agg(F.coalesce(F.sum("household_size"), F.lit(0))).first()[0])
    finding = integrity.exact_count(stored, expected)
    return check_result(finding, f"Σ household_size = {expected:,} rows", outcome=_count_outcome(finding))


def _count_outcome(finding: Finding) -> str:
    return "passed" if finding.passed else f"failed: {finding.checked:,} rows"


# -- distributions (WARN) ---------------------------------------------------------------


def _share_rule(table: str, column: str, field: str, default: dict[str, float]) -> Rule:
    def rule(context: dg.AssetCheckExecutionContext, stored: DataFrame) -> dg.AssetCheckResult:
        config, _ = recorded(context, table)
        weights = dict((config or {}).get(field) or default)
        rows = stored.count()
        gaps = integrity.share_gaps(stored, column, weights)
        tolerance = {
            c: max(SHARE_FLOOR, SHARE_STANDARD_ERRORS * math.sqrt(max(w * (1 - w), 0.0) / max(rows, 1)))
            for c, w in ((c, weights.get(c, 0.0)) for c in gaps)
        }
        off = {c: round(g, 4) for c, g in gaps.items() if abs(g) > tolerance[c]}
        finding = Finding(failing=len(off), checked=len(gaps), figures={"rows": rows})
        return check_result(
            finding,
            f"{column} shares within tolerance of {field}",
            severity=dg.AssetCheckSeverity.WARN,
            realised_minus_configured=dg.MetadataValue.json({c: round(g, 4) for c, g in gaps.items()}),
            outside_tolerance=dg.MetadataValue.json(off),
        )

    return rule


def _identifiers_per_individual(context: dg.AssetCheckExecutionContext, stored: DataFrame) -> dg.AssetCheckResult:
    config, _ = recorded(context, "identity_mappings")
    settings = IdentifiersConfig(**(config or {}))
    per_person = stored.groupBy("individual_id").agg(F.count(F.lit(1)).alias("n"))
    stats = per_person.agg(F.avg("n").alias("mean"), F.min("n").alias("low"), F.max("n").alias("high")).first()
    mean = float(stats["mean"] or 0.0)
    outside = per_person.where((F.col("n") < settings.min_per_individual) | (F.col("n") > settings.max_per_individual))
    bad_mean = abs(mean - settings.mean_per_individual) > 0.05 * settings.mean_per_individual
    finding = Finding(failing=outside.count() + int(bad_mean), checked=per_person.count())
    return check_result(
        finding,
        f"identifiers per individual in [{settings.min_per_individual}, {settings.max_per_individual}], "
        f"mean within 5 % of {settings.mean_per_individual}",
        severity=dg.AssetCheckSeverity.WARN,
        mean=mean,
        configured_mean=settings.mean_per_individual,
    )


def _propensity_lift(
    context: dg.AssetCheckExecutionContext, stored: DataFrame, exposures: DataFrame, audience: DataFrame
) -> dg.AssetCheckResult:
    config, _ = recorded(context, "response_events")
    effect = ResponsesConfig(**(config or {})).propensity_effect
    deciles = audience.select("individual_id", F.ntile(10).over(Window.orderBy("propensity_to_convert", "individual_id")).alias("decile"))
    responded = stored.select("exposure_id", F.lit(1).alias("responded")).distinct()
    rates = {
        r["decile"]: float(r["rate"])
        for r in exposures.select("exposure_id", "individual_id")
        .join(deciles, "individual_id")
        .join(responded, "exposure_id", "left")
        .groupBy("decile")
        .agg(F.avg(F.coalesce("responded", F.lit(0))).alias("rate"))
        .collect()
    }
    bottom, top = rates.get(1, 0.0), rates.get(10, 0.0)
    lift = top / bottom if bottom > 0 else (math.inf if top > 0 else 0.0)
    expected = effect > 0
    passed = lift >= PROPENSITY_LIFT if expected else True
    finding = Finding(failing=0 if passed else 1, checked=len(rates))
    return check_result(
        finding,
        f"top propensity decile responds at ≥ {PROPENSITY_LIFT:g}× the bottom decile's rate"
        + ("" if expected else " (not expected: propensity_effect is 0)"),
        severity=dg.AssetCheckSeverity.WARN,
        lift=lift if math.isfinite(lift) else -1.0,
        rate_by_decile=dg.MetadataValue.json({str(d): round(r, 5) for d, r in sorted(rates.items())}),
    )


def build_asset_checks() -> list[dg.AssetChecksDefinition]:
    """Every asset check of the graph."""
    WARN = dg.AssetCheckSeverity.WARN
    checks = [permission_check(t) for t in ALL_TABLES]
    checks += [primary_key_check(t, k) for t, k in PRIMARY_KEYS.items()]
    checks += [foreign_key_check(fk) for fk in FOREIGN_KEYS]
    checks += [
        invariant_check(
            "households", "requested_row_count", "Exactly num_households rows, as configured for the run that wrote them.",
            _requested_count("households", "num_households", HouseholdsConfig().num_households),
        ),
        invariant_check(
            "individuals", "individuals_per_household", "Each household has exactly household_size individuals.",
            _household_sizes, parents=["households"],
        ),
        invariant_check(
            "individuals", "requested_row_count", "Exactly Σ household_size rows.", _individuals_total, parents=["households"],
        ),
        invariant_check(
            "identity_mappings", "first_seen_not_after_last_seen", "first_seen ≤ last_seen on every identifier.",
            _first_seen_not_after_last_seen,
        ),
        invariant_check(
            "content_engagements", "events_inside_window",
            "event_ts falls on event_date, and event_date inside the partitions' range up to the run's end_date.",
            _inside_window("content_engagements", "event_ts"),
        ),
        invariant_check(
            "content_engagements", "duration_for_views_only", "duration_seconds is set (≥ 0) for views and NULL otherwise.",
            _views_carry_duration,
        ),
        invariant_check(
            "audience_attributes", "affinities_sum_to_one", "affinity_scores lie in [0, 1] and sum to 1 ± 1e-6 per person.",
            _affinities,
        ),
        invariant_check(
            "campaigns", "requested_row_count", "Exactly num_campaigns rows, as configured.",
            _requested_count("campaigns", "num_campaigns", 20),
        ),
        invariant_check("campaigns", "flight_dates_ordered", "start_date ≤ end_date.", _flight_dates),
        invariant_check(
            "campaign_exposures", "inside_campaign_flight",
            "Each exposure falls inside its campaign's dates, on one of its channels, with frequency in [1, cap].",
            _inside_flight, parents=["campaigns"],
        ),
        invariant_check(
            "campaign_exposures", "events_inside_window",
            "exposure_ts falls on event_date, inside the partitions' range up to the run's end_date.",
            _inside_window("campaign_exposures", "exposure_ts"),
        ),
        invariant_check(
            "response_events", "response_after_exposure",
            "Each response is at or after its exposure's exposure_ts, and time_to_conversion_hours is exact.",
            _after_exposure, parents=["campaign_exposures"],
        ),
        invariant_check(
            "response_events", "events_inside_window",
            "response_ts falls on event_date, inside the partitions' range up to the run's end_date.",
            _inside_window("response_events", "response_ts"),
        ),
        invariant_check(
            "outcome_metrics", "attribution_weights_sum_to_one",
            "Attribution weights sum to 1 ± 1e-9 per (response_id, attribution_model).", _weights,
        ),
        # Distributions: realised against configured, reported as warnings.
        invariant_check(
            "households", "income_bracket_mix", "income_bracket shares match income_bracket_weights within tolerance.",
            _share_rule("households", "income_bracket", "income_bracket_weights", HouseholdsConfig().income_bracket_weights),
            severity=WARN,
        ),
        invariant_check(
            "individuals", "gender_mix", "gender shares match gender_weights within tolerance.",
            _share_rule("individuals", "gender", "gender_weights", DemographicsConfig().gender_weights),
            severity=WARN,
        ),
        invariant_check(
            "identity_mappings", "identifiers_per_individual",
            "Identifiers per individual within [min, max] and their mean near mean_per_individual.",
            _identifiers_per_individual, severity=WARN,
        ),
        invariant_check(
            "response_events", "response_rate_rises_with_propensity",
            "The top propensity decile responds at ≥ 3× the bottom decile's rate.",
            _propensity_lift, parents=["campaign_exposures", "audience_attributes"], severity=WARN,
        ),
    ]
    return checks


ASSET_CHECKS = build_asset_checks()
