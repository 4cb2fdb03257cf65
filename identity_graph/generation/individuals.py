"""Individuals: one row per adult member of each household, with correlated demographics."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from identity_graph.config.identity import DemographicsConfig
from identity_graph.config.run import RunParameters
from identity_graph.generation import random as R
from identity_graph.generation.common import generates, timestamp_at, with_contiguous_ids
from identity_graph.generation.pools import name_lists, name_pool
from identity_graph.model.tables import INDIVIDUALS

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
#: Median yearly income at age 18 by education; the age curve and the factors below scale it.
EDUCATION_BASE_INCOME = {
    "High School": 26_000,
    "Some College": 30_000,
    "Bachelor": 42_000,
    "Master": 50_000,
    "Doctorate": 60_000,
}
EMPLOYMENT_INCOME_FACTOR = {"Employed": 1.0, "Self-Employed": 1.1, "Student": 0.3, "Retired": 0.6}
HOUSEHOLD_INCOME_FACTOR = {"<30K": 0.45, "30-60K": 0.75, "60-100K": 1.0, "100-150K": 1.35, "150K+": 1.9}
#: Share of the time between household formation and the event window in which members register.
MEMBER_JOIN_SHARE = 0.25


@generates(INDIVIDUALS)
def generate_individuals(
    spark: SparkSession, households: DataFrame, config: DemographicsConfig, params: RunParameters
) -> DataFrame:
    """Σ household_size individuals keyed 1..N, household by household.

    Employment status and education are drawn at their configured shares; age is
    then drawn within the span those allow (students ≤ 34, retirees ≥ 60, no
    doctorate before 26), and income from education, an age curve peaking in the
    fifties, employment and the household's bracket, with log-normal noise.
    """
    seed = params.seed
    key = "individual_id"

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

    people = members.select(
        key,
        "household_id",
        "member_index",
        F.col("created_at").alias("_household_created_at"),
        F.col("income_bracket").alias("_household_bracket"),
        R.categorical(u("gender"), config.gender_weights).alias("gender"),
        R.categorical(u("education_level"), config.education_weights).alias("education_level"),
        R.categorical(u("employment_status"), config.employment_weights).alias("employment_status"),
    )

    emp = F.col("employment_status")
    span_lo = R.lookup("employment_status", {k: lo for k, (lo, _) in EMPLOYMENT_AGE_SPAN.items()})
    span_hi = R.lookup("employment_status", {k: hi for k, (_, hi) in EMPLOYMENT_AGE_SPAN.items()})
    lo = F.least(
        F.greatest(span_lo, R.lookup("education_level", EDUCATION_MIN_AGE), F.lit(config.age_min)),
        F.lit(config.age_max),
    )
    hi = F.greatest(F.least(span_hi, F.lit(config.age_max)), lo)
    # Shape within the span: students skew young, retirees toward early retirement, others mid-span.
    position = (
        F.when(emp == "Student", F.pow(u("age"), F.lit(2.0)))
        .when(emp == "Retired", F.pow(u("age"), F.lit(1.6)))
        .otherwise((u("age") + u("age#2")) / F.lit(2.0))
    )
    age = R.clip(F.floor(lo + position * (hi - lo + F.lit(1))), config.age_min, config.age_max).cast("int")
    people = people.withColumn("age", F.least(age, hi.cast("int")))

    years = F.col("age") - F.lit(18)
    age_curve = F.exp(F.lit(0.045) * years - F.lit(0.0006) * years * years)
    log_noise = F.exp(F.lit(0.35) * R.standard_normal(seed, TABLE, "income_noise", key))
    income = (
        R.lookup("education_level", EDUCATION_BASE_INCOME)
        * age_curve
        * R.lookup("employment_status", EMPLOYMENT_INCOME_FACTOR)
        * R.lookup("_household_bracket", HOUSEHOLD_INCOME_FACTOR)
        * log_noise
    )
    income = F.when(
        (emp != "Unemployed") & (u("income_missing") >= F.lit(config.income_missing_rate)),
        F.least(F.round(income, 2), F.lit(99_999_999.99)),
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
    shares_surname = u("shares_surname") < F.lit(config.shared_surname_rate)

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
