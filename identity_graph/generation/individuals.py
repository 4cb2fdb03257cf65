"""Individuals: one row per adult member of each household, with correlated demographics."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from identity_graph.config.identity import DemographicsConfig
from identity_graph.config.run import RunParameters
from identity_graph.generation import random as R
from identity_graph.generation.common import generates, timestamp_at, value_shares, with_contiguous_ids
from identity_graph.generation.pools import name_lists, name_pool
from identity_graph.model.tables import INDIVIDUALS
from identity_graph.model.vocabularies import (
    EDUCATION_LEVELS,
    GENERATION_MIN_AGE_GAP,
    INCOME_BRACKET_RANGE,
    INCOME_BRACKETS,
    PARTNER_MAX_AGE_GAP,
)

TABLE = INDIVIDUALS.name

#: Youngest plausible age at each education level.
EDUCATION_MIN_AGE = {"High School": 18, "Some College": 19, "Bachelor": 21, "Master": 23, "Doctorate": 26}
#: Age span per employment status: students are young, retirees old.
EMPLOYMENT_AGE_SPAN = {
    "Employed": (18, 70),
    "Self-Employed": (20, 78),
    "Unemployed": (18, 70),
    "Student": (18, 34),
    "Retired": (60, 100),
}
#: Relative earning power at age 18 by education; the age curve and the factors below scale it,
#: and the household's income is shared out in proportion to it.
EDUCATION_BASE_INCOME = {
    "High School": 26_000,
    "Some College": 30_000,
    "Bachelor": 42_000,
    "Master": 50_000,
    "Doctorate": 60_000,
}
EMPLOYMENT_INCOME_FACTOR = {"Employed": 1.0, "Self-Employed": 1.1, "Student": 0.3, "Retired": 0.6}
#: Employment statuses from the lowest earning to the highest: the order in which a household's
#: standing maps onto them.
EARNING_ORDER = ("Unemployed", "Student", "Retired", "Employed", "Self-Employed")
#: Half-width of the triangular noise around a household's standing (its income quantile) from
#: which its members' education and employment are drawn: 0 ties them to it, 1 nearly frees them.
STANDING_NOISE = 0.8
#: A household with an earner has at least this income a year, and at most this much.
HOUSEHOLD_INCOME_FLOOR, HOUSEHOLD_INCOME_CEILING = 4_000, 5_000_000
#: Incomes in the open top bracket follow a Pareto tail of this exponent above its lower bound.
TOP_BRACKET_PARETO_ALPHA = 2.5
#: The partner's age is the head's plus a normal draw of this σ (years) ...
PARTNER_AGE_SD = 4.0
#: A second member further than PARTNER_MAX_AGE_GAP from the head's age (their employment or
#: education allowing no closer age) is another adult, not a partner.
#: The head's age when a child was born, uniform in this range (years); a child must come out at
#: least GENERATION_MIN_AGE_GAP years younger than the head, otherwise the member is another adult.
PARENT_AGE_AT_BIRTH = (20, 38)
#: A further member who cannot be the head's child (the head is too young) is the head's parent
#: with this probability (when the parent's age stays within age_max), otherwise another adult.
PARENT_SHARE = 0.4
#: Another adult's age is the head's plus a normal draw of this σ (years).
OTHER_ADULT_AGE_SD = 10.0
#: Share of the time between household formation and the event window in which members register.
MEMBER_JOIN_SHARE = 0.25


def _in_order(weights: Mapping[str, float], order: Sequence[str]) -> dict[str, float]:
    """``weights`` with its keys in ``order`` (the order categorical draws map low to high)."""
    return {k: weights[k] for k in order if k in weights} | {k: w for k, w in weights.items() if k not in order}


def _household_income(seed: int, bracket: Column) -> Column:
    """The household's yearly income, drawn inside its bracket: log-uniform in a bounded bracket
    (a dollar inside each edge, so members' incomes rounded to cents still add up inside it),
    a Pareto tail above the open top bracket's lower edge."""
    u = R.uniform(seed, TABLE, "household_income", "household_id")
    total = None
    for name, (edge, high) in INCOME_BRACKET_RANGE.items():
        low = max(edge + 1, HOUSEHOLD_INCOME_FLOOR)
        if high is None:
            value = F.least(
                F.lit(float(low)) * F.pow(F.lit(1.0) - u, F.lit(-1.0 / TOP_BRACKET_PARETO_ALPHA)),
                F.lit(float(HOUSEHOLD_INCOME_CEILING)),
            )
        else:
            value = F.exp(F.lit(math.log(low)) + u * F.lit(math.log(high - 1) - math.log(low)))
        total = (F.when if total is None else total.when)(bracket == F.lit(name), value)
    return total


@generates(INDIVIDUALS)
def generate_individuals(
    spark: SparkSession, households: DataFrame, config: DemographicsConfig, params: RunParameters
) -> DataFrame:
    """Σ household_size individuals keyed 1..N, household by household.

    Each household has a standing — its income's quantile among the households, from its
    bracket — and its members' education and employment are drawn near it (higher standing,
    more education and fewer non-earners) while keeping their configured shares. A household
    above the lowest bracket whose members all came out unemployed has its head drawn again
    among the earning statuses. The first member is the head, whose age is drawn within the
    span status and education allow (students ≤ 34, retirees ≥ 60, no doctorate before 26);
    the second is a partner of about the head's age; further members are adult children a
    generation younger, or (when the head is too young for that) a parent or another adult.
    Each age is then clipped into its own span, and the role follows the age it came out at.
    The household's income is drawn inside its bracket and shared out by earning power
    (education, an age curve peaking in the fifties, employment, log-normal noise), so the
    members' incomes add up inside the bracket. The head carries the household's surname,
    partners, children and parents mostly do too, other adults (siblings or flatmates) half as often.
    """
    seed = params.seed
    key = "individual_id"
    household = Window.partitionBy("household_id")

    def u(column: str) -> Column:
        return R.uniform(seed, TABLE, column, key)

    members = (
        with_contiguous_ids(
            households.select("household_id", "household_size", "created_at", "income_bracket"),
            "household_id",
            "household_size",
            "_offset",
        )
        .select("*", F.explode(F.sequence(F.lit(1), F.col("household_size"))).alias("member_index"))
        .withColumn(key, F.col("_offset") + F.col("member_index"))
    )

    # The household's standing: its income's quantile among the households, from its bracket's
    # realised share and its place inside the bracket (the draw that places its income there).
    position = R.uniform(seed, TABLE, "household_income", "household_id")
    bracket_order = R.lookup("income_bracket", {b: i for i, b in enumerate(INCOME_BRACKETS)})
    standing = F.col("_below") + F.col("_share") * position
    people = members.join(
        F.broadcast(value_shares(households, "income_bracket", bracket_order)), "income_bracket"
    ).select(
        key,
        "household_id",
        "member_index",
        F.col("created_at").alias("_household_created_at"),
        F.col("income_bracket").alias("_household_bracket"),
        R.categorical(u("gender"), config.gender_weights).alias("gender"),
        R.categorical(
            R.near(standing, STANDING_NOISE, seed, TABLE, "education_level", key),
            _in_order(config.education_weights, EDUCATION_LEVELS),
        ).alias("education_level"),
        R.categorical(
            R.near(standing, STANDING_NOISE, seed, TABLE, "employment_status", key),
            _in_order(config.employment_weights, EARNING_ORDER),
        ).alias("employment_status"),
    )
    earning_weights = {k: w for k, w in config.employment_weights.items() if k != "Unemployed"}
    if earning_weights and sum(earning_weights.values()) > 0:
        no_earner = F.count(F.when(F.col("employment_status") != "Unemployed", 1)).over(household) == 0
        redraw = (F.col("member_index") == 1) & no_earner & (F.col("_household_bracket") != F.lit("<30K"))
        people = people.withColumn(
            "employment_status",
            F.when(redraw, R.categorical(u("employment_status#earner"), earning_weights)).otherwise(
                F.col("employment_status")
            ),
        )

    emp = F.col("employment_status")
    span_lo = R.lookup("employment_status", {k: lo for k, (lo, _) in EMPLOYMENT_AGE_SPAN.items()})
    span_hi = R.lookup("employment_status", {k: hi for k, (_, hi) in EMPLOYMENT_AGE_SPAN.items()})
    lo = F.least(
        F.greatest(span_lo, R.lookup("education_level", EDUCATION_MIN_AGE), F.lit(config.age_min)),
        F.lit(config.age_max),
    )
    hi = F.greatest(F.least(span_hi, F.lit(config.age_max)), lo)
    # The head's shape within the span: students skew young, retirees toward early retirement, others mid-span.
    position = (
        F.when(emp == "Student", F.pow(u("age"), F.lit(2.0)))
        .when(emp == "Retired", F.pow(u("age"), F.lit(1.6)))
        .otherwise((u("age") + u("age#2")) / F.lit(2.0))
    )
    own_age = F.floor(lo + position * (hi - lo + F.lit(1)))
    people = people.withColumn("_lo", lo).withColumn("_hi", hi).withColumn("_own_age", own_age)
    head_age = F.max(F.when(F.col("member_index") == 1, F.col("_own_age"))).over(household)
    people = people.withColumn("_head_age", head_age)

    head = F.col("_head_age")
    child_age = head - F.floor(
        F.lit(PARENT_AGE_AT_BIRTH[0]) + u("parent_age") * F.lit(PARENT_AGE_AT_BIRTH[1] - PARENT_AGE_AT_BIRTH[0] + 1)
    )
    parent_age = head + F.floor(
        F.lit(PARENT_AGE_AT_BIRTH[0]) + u("child_age") * F.lit(PARENT_AGE_AT_BIRTH[1] - PARENT_AGE_AT_BIRTH[0] + 1)
    )
    is_child = (F.col("member_index") >= 3) & (child_age >= F.lit(config.age_min))
    is_parent = (
        (F.col("member_index") >= 3)
        & ~is_child
        & (parent_age <= F.lit(config.age_max))
        & (u("lives_with_parent") < F.lit(PARENT_SHARE))
    )
    target = (
        F.when(F.col("member_index") == 1, head)
        .when(
            F.col("member_index") == 2,
            head + F.round(F.lit(PARTNER_AGE_SD) * R.standard_normal(seed, TABLE, "partner_age", key)),
        )
        .when(is_child, child_age)
        .when(is_parent, parent_age)
        .otherwise(head + F.round(F.lit(OTHER_ADULT_AGE_SD) * R.standard_normal(seed, TABLE, "other_age", key)))
    )
    age = F.least(F.greatest(target, F.col("_lo")), F.col("_hi")).cast("int")
    people = people.withColumn("age", age).withColumn("_child", is_child).withColumn("_parent", is_parent)
    gap = F.col("_head_age") - F.col("age")
    role = (
        F.when(F.col("member_index") == 1, F.lit("head"))
        .when((F.col("member_index") == 2) & (F.abs(gap) <= F.lit(PARTNER_MAX_AGE_GAP)), F.lit("partner"))
        .when(F.col("_child") & (gap >= F.lit(GENERATION_MIN_AGE_GAP)), F.lit("child"))
        .when(F.col("_parent") & (-gap >= F.lit(GENERATION_MIN_AGE_GAP)), F.lit("parent"))
        .otherwise(F.lit("other adult"))
    )
    people = people.withColumn("household_role", role)

    years = F.col("age") - F.lit(18)
    age_curve = F.exp(F.lit(0.045) * years - F.lit(0.0006) * years * years)
    log_noise = F.exp(F.lit(0.35) * R.standard_normal(seed, TABLE, "income_noise", key))
    earning_power = F.coalesce(
        R.lookup("education_level", EDUCATION_BASE_INCOME)
        * age_curve
        * R.lookup("employment_status", EMPLOYMENT_INCOME_FACTOR)
        * log_noise,
        F.lit(0.0),
    )
    people = people.withColumn("_power", earning_power)
    share = F.col("_power") / F.nullif(F.sum("_power").over(household), F.lit(0.0))
    income = F.when(
        (emp != "Unemployed") & (u("income_missing") >= F.lit(config.income_missing_rate)),
        F.round(_household_income(seed, F.col("_household_bracket")) * share, 2),
    ).cast("decimal(10,2)")

    # Names: first names by gender; most members share the household's surname.
    sizes = {pool: len(names) for pool, names in name_lists(seed).items()}
    first_pool = (
        F.when(F.col("gender") == "Male", F.lit("male"))
        .when(F.col("gender") == "Female", F.lit("female"))
        .otherwise(
            F.when(u("first_name_pool") < F.lit(0.5), F.lit("nonbinary")).otherwise(
                F.when(u("first_name_pool#2") < F.lit(0.5), F.lit("male")).otherwise(F.lit("female"))
            )
        )
    )
    first_size = R.lookup("_first_pool", sizes)
    household_surname = F.floor(R.uniform(seed, TABLE, "household_surname", "household_id") * F.lit(sizes["last"]))
    own_surname = F.floor(u("last_name") * F.lit(sizes["last"]))
    role = F.col("household_role")
    # Other adults are siblings (who share it) or flatmates (who do not), half and half.
    surname_rate = F.when(role == "other adult", F.lit(config.shared_surname_rate / 2)).otherwise(
        F.lit(config.shared_surname_rate)
    )
    shares_surname = (role == "head") | (u("shares_surname") < surname_rate)

    people = (
        people.withColumn("income_individual", income)
        .withColumn("_first_pool", first_pool)
        .withColumn("_first_index", F.floor(u("first_name") * first_size).cast("int"))
        .withColumn("_last_index", F.when(shares_surname, household_surname).otherwise(own_surname).cast("int"))
    )

    joined_epoch = F.unix_timestamp("_household_created_at") + u("created_at") * F.lit(MEMBER_JOIN_SHARE) * (
        F.lit(params.window_start_epoch) - F.unix_timestamp("_household_created_at")
    )
    names = name_pool(spark, seed)
    first = names.select(
        F.col("name_pool").alias("_first_pool"),
        F.col("name_index").alias("_first_index"),
        F.col("name").alias("first_name"),
    )
    last = names.where(F.col("name_pool") == "last").select(
        F.col("name_index").alias("_last_index"), F.col("name").alias("last_name")
    )
    return (
        people.join(F.broadcast(first), ["_first_pool", "_first_index"])
        .join(F.broadcast(last), "_last_index")
        .select(
            key,
            "household_id",
            "household_role",
            "first_name",
            "last_name",
            "age",
            "gender",
            "education_level",
            "employment_status",
            "income_individual",
            timestamp_at(joined_epoch).alias("created_at"),
        )
    )
