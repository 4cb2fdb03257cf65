"""Integrity measures over stored tables: pure Spark, no Dagster.

Each function answers one question about one or two DataFrames with a :class:`Finding`:
how many rows break the rule, how many were checked, and a few offending rows to look
at. The asset checks in :mod:`identity_graph.checks.asset_checks` turn findings into
Dagster check results; ``identity-graph check`` prints them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from identity_graph.generation.random import lookup
from identity_graph.model.vocabularies import (
    GENERATION_MIN_AGE_GAP,
    HOUSEHOLD_ROLES,
    INCOME_BRACKET_RANGE,
    PARTNER_MAX_AGE_GAP,
)

#: Offending rows kept as an example in each finding.
SAMPLE_SIZE = 5
#: Attribution weights of one (response, model) must sum to 1 within this.
WEIGHT_SUM_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Finding:
    """The outcome of one integrity measure: rows breaking the rule, rows checked, examples."""

    failing: int
    checked: int
    sample: list[dict[str, Any]] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.failing == 0


def _sample(frame: DataFrame, columns: Sequence[str], order: Sequence[str]) -> list[dict[str, Any]]:
    rows = frame.select(*columns).orderBy(*order).limit(SAMPLE_SIZE).collect()
    return [{k: _plain(v) for k, v in row.asDict().items()} for row in rows]


def _plain(value: Any) -> Any:
    """A JSON-friendly form of a Spark value (dates and decimals as text)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def orphans(child: DataFrame, column: str, parent: DataFrame, parent_column: str, child_key: str) -> Finding:
    """Rows of ``child`` whose non-NULL ``column`` matches no ``parent_column`` in ``parent``."""
    parents = parent.select(F.col(parent_column).alias(column), F.lit(True).alias("_found")).distinct()
    joined = child.where(F.col(column).isNotNull()).select(child_key, column).join(parents, column, "left")
    missing = joined.where(F.col("_found").isNull())
    counts = joined.agg(
        F.count(F.lit(1)).alias("checked"), F.count(F.when(F.col("_found").isNull(), 1)).alias("failing")
    ).first()
    failing = int(counts["failing"])
    sample = _sample(missing, [child_key, column], [column, child_key]) if failing else []
    return Finding(failing=failing, checked=int(counts["checked"]), sample=sample)


def duplicate_keys(table: DataFrame, key: str) -> Finding:
    """Rows whose ``key`` is NULL or appears more than once."""
    counts = table.groupBy(key).agg(F.count(F.lit(1)).alias("rows"))
    is_bad = F.col(key).isNull() | (F.col("rows") > 1)
    totals = counts.agg(
        F.coalesce(F.sum("rows"), F.lit(0)).alias("checked"),
        F.coalesce(F.sum(F.when(is_bad, F.col("rows"))), F.lit(0)).alias("failing"),
        F.count(F.when(is_bad, 1)).alias("keys"),
    ).first()
    failing = int(totals["failing"])
    sample = _sample(counts.where(is_bad), [key, "rows"], [F.desc("rows"), key]) if failing else []
    return Finding(
        failing=failing, checked=int(totals["checked"]), sample=sample, figures={"duplicated_keys": int(totals["keys"])}
    )


def violations(table: DataFrame, holds: Column, columns: Sequence[str], order: Sequence[str]) -> Finding:
    """Rows of ``table`` for which ``holds`` is false or NULL (NULL never passes)."""
    flagged = table.select(*columns, F.coalesce(holds, F.lit(False)).alias("_holds"))
    counts = flagged.agg(
        F.count(F.lit(1)).alias("checked"), F.sum(F.when(~F.col("_holds"), 1).otherwise(0)).alias("failing")
    ).first()
    failing = int(counts["failing"] or 0)
    sample = _sample(flagged.where(~F.col("_holds")), columns, order) if failing else []
    return Finding(failing=failing, checked=int(counts["checked"]), sample=sample)


def observed_on_live_identifier(
    events: DataFrame,
    key: str,
    ts_column: str,
    mappings: DataFrame,
    expected_type: Column | None = None,
    observed: Column | None = None,
) -> Finding:
    """Events not observed on one of their own identifiers, of ``expected_type``, live at ``ts_column``.

    An event holds when its mapping_id names an identifier of the same individual whose
    [first_seen, last_seen] contains the event's timestamp and, when ``expected_type`` (a
    column of the event) is given, whose identifier_type equals it. Where ``observed`` is
    given, only the rows it marks must carry one, and the others must carry none (mapping_id NULL).
    """
    if expected_type is None:
        expected_type = F.lit(None).cast("string")
        type_matches = F.lit(True)
    else:
        type_matches = F.col("_identifier_type") == F.col("_expected_type")
    identifiers = mappings.select(
        "mapping_id",
        F.col("individual_id").alias("_holder"),
        F.col("identifier_type").alias("_identifier_type"),
        "first_seen",
        "last_seen",
    )
    joined = events.select(
        key, "individual_id", "mapping_id", ts_column, expected_type.alias("_expected_type"),
        (observed if observed is not None else F.lit(True)).alias("_observed"),
    ).join(identifiers, "mapping_id", "left")  # fmt: skip
    on_live_identifier = (
        (F.col("_holder") == F.col("individual_id"))
        & type_matches
        & (F.col(ts_column) >= F.col("first_seen"))
        & (F.col(ts_column) <= F.col("last_seen"))
    )
    holds = F.when(F.col("_observed"), on_live_identifier).otherwise(F.col("mapping_id").isNull())
    columns = [
        key, "individual_id", "mapping_id", "_observed", ts_column, "_holder", "_identifier_type", "_expected_type",
        "first_seen", "last_seen",
    ]  # fmt: skip
    return violations(joined, holds, columns, [key])


def attribution_weight_sums(outcomes: DataFrame, tolerance: float = WEIGHT_SUM_TOLERANCE) -> Finding:
    """(response_id, attribution_model) groups whose weights do not sum to 1 within ``tolerance``."""
    sums = outcomes.groupBy("response_id", "attribution_model").agg(F.sum("attribution_weight").alias("weight_sum"))
    return violations(
        sums,
        F.abs(F.col("weight_sum") - F.lit(1.0)) <= F.lit(tolerance),
        ["response_id", "attribution_model", "weight_sum"],
        ["response_id", "attribution_model"],
    )


def household_sizes(individuals: DataFrame, households: DataFrame) -> Finding:
    """Households whose number of individuals differs from household_size."""
    members = individuals.groupBy("household_id").agg(F.count(F.lit(1)).alias("members"))
    joined = households.select("household_id", "household_size").join(members, "household_id", "left")
    return violations(
        joined,
        F.coalesce(F.col("members"), F.lit(0)) == F.col("household_size"),
        ["household_id", "household_size", "members"],
        ["household_id"],
    )


def income_within_bracket(individuals: DataFrame, households: DataFrame) -> Finding:
    """Households whose members' incomes do not add up inside its income_bracket.

    The unemployed count 0. When a member who earns did not disclose (NULL income), only the
    upper edge can be judged: the disclosed incomes must stay below it.
    """
    members = individuals.groupBy("household_id").agg(
        F.coalesce(F.sum("income_individual"), F.lit(0)).alias("members_income"),
        F.count(F.when(F.col("income_individual").isNull() & (F.col("employment_status") != "Unemployed"), 1)).alias(
            "undisclosed"
        ),
    )
    joined = households.select("household_id", "income_bracket").join(members, "household_id")
    low = lookup("income_bracket", {b: low for b, (low, _) in INCOME_BRACKET_RANGE.items()})
    high = lookup("income_bracket", {b: high for b, (_, high) in INCOME_BRACKET_RANGE.items() if high is not None})
    total = F.col("members_income")
    bracket = F.col("income_bracket")
    holds = (
        bracket.isin(*INCOME_BRACKET_RANGE)
        & (high.isNull() | (total < high))
        & ((F.col("undisclosed") > 0) | (total >= low))
    )
    return violations(
        joined,
        holds,
        ["household_id", "income_bracket", "members_income", "undisclosed"],
        ["household_id"],
    )


def household_roles(individuals: DataFrame) -> Finding:
    """Households whose members' roles and ages do not fit together: not exactly one head, more
    than one partner, a partner more than PARTNER_MAX_AGE_GAP years from the head's age, a child
    fewer than GENERATION_MIN_AGE_GAP years younger than the head or a parent fewer than that many
    years older (or a role outside the vocabulary)."""
    role, age = F.col("household_role"), F.col("age")
    per_household = individuals.groupBy("household_id").agg(
        F.count(F.when(role == "head", 1)).alias("heads"),
        F.count(F.when(role == "partner", 1)).alias("partners"),
        F.count(F.when(~role.isin(*HOUSEHOLD_ROLES) | role.isNull(), 1)).alias("unknown_roles"),
        F.max(F.when(role == "head", age)).alias("head_age"),
        F.collect_list(F.when(role == "partner", age)).alias("partner_ages"),
        F.collect_list(F.when(role == "child", age)).alias("child_ages"),
        F.collect_list(F.when(role == "parent", age)).alias("parent_ages"),
    )
    head_age = F.col("head_age")
    holds = (
        (F.col("heads") == 1)
        & (F.col("partners") <= 1)
        & (F.col("unknown_roles") == 0)
        & F.forall("partner_ages", lambda a: F.abs(a - head_age) <= F.lit(PARTNER_MAX_AGE_GAP))
        & F.forall("child_ages", lambda a: head_age - a >= F.lit(GENERATION_MIN_AGE_GAP))
        & F.forall("parent_ages", lambda a: a - head_age >= F.lit(GENERATION_MIN_AGE_GAP))
    )
    return violations(
        per_household,
        holds,
        ["household_id", "heads", "partners", "unknown_roles", "head_age", "partner_ages", "child_ages", "parent_ages"],
        ["household_id"],
    )


def exact_count(table: DataFrame, expected: int) -> Finding:
    """Whether ``table`` has exactly ``expected`` rows (failing = the absolute difference)."""
    rows = table.count()
    return Finding(failing=abs(rows - expected), checked=rows, figures={"expected": expected, "rows": rows})


def share_gaps(table: DataFrame, column: str, weights: dict[str, float]) -> tuple[dict[str, float], int]:
    """Realised share minus configured weight, per category of ``column`` (categories in either), and
    the rows counted. One Spark job: the total is the sum of the group counts (NULLs form a group)."""
    counts = {r[column]: r["n"] for r in table.groupBy(column).agg(F.count(F.lit(1)).alias("n")).collect()}
    total = sum(counts.values())
    categories = sorted(set(weights) | {c for c in counts if c is not None})
    return {c: (counts.get(c, 0) / total if total else 0.0) - weights.get(c, 0.0) for c in categories}, total


def rows_per_key(table: DataFrame, key: str, low: int, high: int) -> Finding:
    """Keys of ``table`` with fewer than ``low`` or more than ``high`` rows; the mean rows per key
    as the figure ``mean`` (0 on an empty table). One Spark job."""
    per_key = table.groupBy(key).agg(F.count(F.lit(1)).alias("n"))
    stats = per_key.agg(
        F.avg("n").alias("mean"),
        F.count(F.lit(1)).alias("keys"),
        F.count(F.when((F.col("n") < low) | (F.col("n") > high), 1)).alias("outside"),
    ).first()
    return Finding(
        failing=int(stats["outside"]), checked=int(stats["keys"]), figures={"mean": float(stats["mean"] or 0.0)}
    )
