"""The identity core at ≥ 20,000 rows: exact counts, integrity, realised distributions, realism.

Tolerances: shares within ±0.015 absolute (≥ 4.5 standard errors at these sizes),
means within the stated bound.
"""

from __future__ import annotations

import math
import re

import pytest
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from identity_graph.checks import integrity
from identity_graph.config import DemographicsConfig, HouseholdsConfig, IdentifiersConfig, RunParameters
from identity_graph.generation import (
    generate_households,
    generate_identity_mappings,
    generate_individuals,
)
from identity_graph.generation.pools import US_CITIES
from identity_graph.model.vocabularies import HOUSEHOLD_ROLES, IDENTIFIER_SCOPE, INCOME_BRACKETS

NUM_HOUSEHOLDS = 20_000
KEYS = ("individual_id", "household_id")
SHARE_TOLERANCE = 0.015
PARAMS = RunParameters(seed=42, partitions=2)


@pytest.fixture(scope="module")
def tables(spark):
    households = generate_households(spark, HouseholdsConfig(num_households=NUM_HOUSEHOLDS), PARAMS).cache()
    individuals = generate_individuals(spark, households, DemographicsConfig(), PARAMS).cache()
    mappings = generate_identity_mappings(spark, individuals, IdentifiersConfig(), PARAMS).cache()
    yield {"households": households, "individuals": individuals, "identity_mappings": mappings}
    for frame in (households, individuals, mappings):
        frame.unpersist()


def shares(df: DataFrame, column: str) -> dict[str, float]:
    total = df.count()
    return {r[column]: r["count"] / total for r in df.groupBy(column).count().collect()}


def assert_shares(realised: dict[str, float], configured: dict[str, float]) -> None:
    for category, weight in configured.items():
        assert realised.get(category, 0.0) == pytest.approx(weight, abs=SHARE_TOLERANCE), category
    assert set(realised) <= set(configured)


# -- counts and keys ---------------------------------------------------------------------


def test_household_count_is_exact_and_keys_are_1_to_n(tables):
    stats = (
        tables["households"]
        .agg(F.count("*"), F.countDistinct("household_id"), F.min("household_id"), F.max("household_id"))
        .first()
    )
    assert tuple(stats) == (NUM_HOUSEHOLDS, NUM_HOUSEHOLDS, 1, NUM_HOUSEHOLDS)


def test_individual_count_is_sum_of_household_sizes_and_per_household_exact(tables):
    households, individuals = tables["households"], tables["individuals"]
    expected = households.agg(F.sum("household_size")).first()[0]
    stats = individuals.agg(
        F.count("*"), F.countDistinct("individual_id"), F.min("individual_id"), F.max("individual_id")
    ).first()
    assert tuple(stats) == (expected, expected, 1, expected)
    per_household = individuals.groupBy("household_id").count()
    mismatched = households.join(per_household, "household_id", "left").where(
        F.coalesce(F.col("count"), F.lit(0)) != F.col("household_size")
    )
    assert mismatched.count() == 0


def test_no_orphans_on_any_foreign_key(tables):
    households, individuals, mappings = tables["households"], tables["individuals"], tables["identity_mappings"]
    assert individuals.join(households, "household_id", "left_anti").count() == 0
    assert mappings.join(individuals, "individual_id", "left_anti").count() == 0


def test_mapping_ids_unique_and_2_to_15_per_individual(tables):
    mappings = tables["identity_mappings"]
    total = mappings.count()
    assert mappings.select("mapping_id").distinct().count() == total
    assert tuple(mappings.agg(F.min("mapping_id"), F.max("mapping_id")).first()) == (1, total)
    per_person = mappings.groupBy("individual_id").count()
    low, high, mean = per_person.agg(F.min("count"), F.max("count"), F.avg("count")).first()
    assert low >= 2 and high <= 15
    assert mean == pytest.approx(IdentifiersConfig().mean_per_individual, abs=0.1)
    assert per_person.count() == tables["individuals"].count()


# -- households ---------------------------------------------------------------------------


def test_income_and_housing_mix_follow_config(tables):
    config = HouseholdsConfig()
    assert_shares(shares(tables["households"], "income_bracket"), config.income_bracket_weights)
    assert_shares(shares(tables["households"], "housing_type"), config.housing_type_weights)


def _expected_clipped_rounded_normal_mean(mean: float, sd: float, low: int, high: int) -> float:
    def cdf(x: float) -> float:
        return 0.5 * (1 + math.erf((x - mean) / (sd * math.sqrt(2))))

    expected = 0.0
    for k in range(low, high + 1):
        lower = -math.inf if k == low else k - 0.5
        upper = math.inf if k == high else k + 0.5
        p = (cdf(upper) if upper != math.inf else 1.0) - (cdf(lower) if lower != -math.inf else 0.0)
        expected += k * p
    return expected


def test_household_size_is_clipped_normal_with_configured_mean(tables):
    config = HouseholdsConfig()
    low, high, mean = (
        tables["households"].agg(F.min("household_size"), F.max("household_size"), F.avg("household_size")).first()
    )
    assert low >= 1 and high <= 10
    expected = _expected_clipped_rounded_normal_mean(2.5, 1.2, config.household_size_min, config.household_size_max)
    assert mean == pytest.approx(expected, abs=0.04)


def test_configured_weights_change_the_realised_mix(spark):
    weights = {"<30K": 0.05, "30-60K": 0.05, "60-100K": 0.1, "100-150K": 0.2, "150K+": 0.6}
    config = HouseholdsConfig(num_households=NUM_HOUSEHOLDS, income_bracket_weights=weights, household_size_max=3)
    households = generate_households(spark, config, PARAMS)
    assert_shares(shares(households, "income_bracket"), weights)
    assert households.agg(F.max("household_size")).first()[0] == 3


def test_city_state_zip_triples_are_consistent(tables):
    known = {(city, state): prefixes for city, state, _, prefixes in US_CITIES}
    rows = (
        tables["households"]
        .groupBy("location_city", "location_state", F.substring("location_zip", 1, 3).alias("p"))
        .count()
        .collect()
    )
    for row in rows:
        assert (row.location_city, row.location_state) in known, row
        assert row.p in known[(row.location_city, row.location_state)], row
    bad_zip = tables["households"].where(~F.col("location_zip").rlike(r"^\d{5}$")).count()
    assert bad_zip == 0
    assert len({(r.location_city, r.location_state) for r in rows}) > 50


# -- individuals --------------------------------------------------------------------------


def test_demographic_mixes_follow_config(tables):
    config = DemographicsConfig()
    individuals = tables["individuals"]
    assert_shares(shares(individuals, "gender"), config.gender_weights)
    assert_shares(shares(individuals, "education_level"), config.education_weights)
    assert_shares(shares(individuals, "employment_status"), config.employment_weights)


def test_ages_in_range_retirees_old_students_young(tables):
    individuals = tables["individuals"]
    low, high = individuals.agg(F.min("age"), F.max("age")).first()
    assert low >= 18 and high <= 90
    assert individuals.where((F.col("employment_status") == "Retired") & (F.col("age") < 60)).count() == 0
    assert individuals.where((F.col("employment_status") == "Student") & (F.col("age") > 34)).count() == 0
    assert individuals.where((F.col("education_level") == "Doctorate") & (F.col("age") < 26)).count() == 0


def test_income_rises_with_education_and_age(tables):
    individuals = tables["individuals"]
    by_education = {
        r[0]: float(r[1]) for r in individuals.groupBy("education_level").agg(F.avg("income_individual")).collect()
    }
    order = ["High School", "Some College", "Bachelor", "Master", "Doctorate"]
    means = [by_education[level] for level in order]
    assert means == sorted(means) and means[-1] > 1.8 * means[0]
    employed = individuals.where(F.col("employment_status") == "Employed")
    young = employed.where(F.col("age") < 25).agg(F.avg("income_individual")).first()[0]
    prime = employed.where(F.col("age").between(45, 54)).agg(F.avg("income_individual")).first()[0]
    old = employed.where(F.col("age") >= 65).agg(F.avg("income_individual")).first()[0]
    # The age curve peaks in the fifties: prime-age earners above both the young and the old.
    assert float(prime) > 1.4 * float(young) and float(prime) > float(old)


def test_members_incomes_add_up_inside_the_household_bracket(tables):
    individuals, households = tables["individuals"], tables["households"]
    assert integrity.income_within_bracket(individuals, households).passed
    totals = (
        individuals.groupBy("household_id")
        .agg(F.sum("income_individual").alias("total"), F.count("income_individual").alias("disclosed"))
        .join(households, "household_id")
        .where(F.col("disclosed") == F.col("household_size"))
    )
    means = {r[0]: float(r[1]) for r in totals.groupBy("income_bracket").agg(F.avg("total")).collect()}
    assert [means[b] for b in INCOME_BRACKETS] == sorted(means.values())
    assert 10_000 < means["<30K"] < 30_000 and means["150K+"] > 150_000


def test_education_and_earning_follow_the_household_bracket(tables):
    individuals, households = tables["individuals"], tables["households"]
    joined = individuals.join(households.select("household_id", "income_bracket"), "household_id")
    degree = F.col("education_level").isin("Bachelor", "Master", "Doctorate").cast("int")
    earning = F.col("employment_status").isin("Employed", "Self-Employed").cast("int")
    by_bracket = {
        r[0]: (r[1], r[2]) for r in joined.groupBy("income_bracket").agg(F.avg(degree), F.avg(earning)).collect()
    }
    low, high = by_bracket["<30K"], by_bracket["150K+"]
    assert high[0] > 2 * low[0] and high[1] > low[1] + 0.2


def test_household_roles_and_ages_fit_together(tables):
    individuals, households = tables["individuals"], tables["households"]
    assert integrity.household_roles(individuals).passed
    roles = shares(individuals, "household_role")
    assert set(roles) <= set(HOUSEHOLD_ROLES) and roles["partner"] > 0.2 and roles["child"] > 0.05
    heads = individuals.where(F.col("household_role") == "head").select("household_id", F.col("age").alias("head_age"))
    pairs = (
        individuals.where(F.col("household_role") != "head")
        .join(heads, "household_id")
        .join(households.where(F.col("household_size") == 2).select("household_id"), "household_id")
    )
    gap = pairs.agg(F.avg(F.abs(F.col("age") - F.col("head_age")))).first()[0]
    assert gap < 10  # independent ages gave a mean gap of 19 years


def test_income_and_role_measures_count_planted_households(tables):
    individuals, households = tables["individuals"], tables["households"]
    rich = households.where(F.col("income_bracket") == "<30K").orderBy("household_id").limit(3)
    planted_income = individuals.join(rich.select("household_id"), "household_id", "left_semi").withColumn(
        "income_individual", F.lit(90_000).cast("decimal(10,2)")
    )
    untouched = individuals.join(rich.select("household_id"), "household_id", "left_anti")
    found = integrity.income_within_bracket(untouched.unionByName(planted_income), households)
    assert found.failing == 3 and {r["income_bracket"] for r in found.sample} == {"<30K"}

    def plant(where: str, **changes: str) -> DataFrame:
        # Two households, one member each.
        chosen = individuals.where(where).dropDuplicates(["household_id"]).orderBy("individual_id").limit(2)
        changed = chosen
        for column, expression in changes.items():
            changed = changed.withColumn(column, F.expr(expression))
        return individuals.join(chosen.select("individual_id"), "individual_id", "left_anti").unionByName(changed)

    assert integrity.household_roles(plant("household_role = 'partner'", age="age + 40")).failing == 2
    assert integrity.household_roles(plant("household_role = 'child'", age="age + 60")).failing == 2
    assert integrity.household_roles(plant("household_role = 'partner'", household_role="'head'")).failing == 2
    assert integrity.household_roles(plant("household_role = 'other adult'", household_role="'cousin'")).failing == 2


def test_income_is_null_for_unemployed_and_at_the_missing_rate_otherwise(tables):
    individuals = tables["individuals"]
    assert (
        individuals.where((F.col("employment_status") == "Unemployed") & F.col("income_individual").isNotNull()).count()
        == 0
    )
    earners = individuals.where(F.col("employment_status") != "Unemployed")
    missing = earners.where(F.col("income_individual").isNull()).count() / earners.count()
    assert missing == pytest.approx(DemographicsConfig().income_missing_rate, abs=SHARE_TOLERANCE)
    assert earners.where(F.col("income_individual") <= 0).count() == 0


def test_most_household_members_share_a_surname(tables):
    individuals = tables["individuals"]
    multi = (
        individuals.groupBy("household_id")
        .agg(F.count("*").alias("n"), F.countDistinct("last_name").alias("names"))
        .where("n > 1")
    )
    share_single_name = multi.where("names = 1").count() / multi.count()
    assert share_single_name > 0.5
    assert individuals.where(F.col("first_name").isNull() | F.col("last_name").isNull()).count() == 0


# -- identity mappings --------------------------------------------------------------------


def test_identifier_type_prevalence_follows_config(tables):
    """Person and device types over individuals, household types over households."""
    config = IdentifiersConfig()
    mappings = tables["identity_mappings"].join(tables["individuals"].select(*KEYS), "individual_id")
    people, households = tables["individuals"].count(), tables["households"].count()
    holders = mappings.groupBy("identifier_type").agg(
        F.countDistinct("individual_id").alias("people"), F.countDistinct("household_id").alias("households")
    )
    for row in holders.collect():
        household_scope = IDENTIFIER_SCOPE[row.identifier_type] == "household"
        realised = row.households / households if household_scope else row.people / people
        expected = config.type_prevalence[row.identifier_type]
        assert realised == pytest.approx(expected, abs=SHARE_TOLERANCE), row.identifier_type


def test_household_identifiers_are_held_by_every_member_with_one_value(tables):
    mappings = tables["identity_mappings"].join(tables["individuals"].select(*KEYS), "individual_id")
    shared = mappings.where(F.col("identifier_type").isin("ctv_id", "ip_address"))
    per_household = shared.groupBy("household_id", "identifier_type").agg(
        F.countDistinct("identifier_value").alias("values"), F.countDistinct("individual_id").alias("members")
    )
    sizes = tables["households"].select("household_id", "household_size")
    assert per_household.where("values <> 1").count() == 0
    assert per_household.join(sizes, "household_id").where("members <> household_size").count() == 0
    # No two households share one.
    assert (
        shared.groupBy("identifier_type", "identifier_value")
        .agg(F.countDistinct("household_id").alias("n"))
        .where("n > 1")
        .count()
        == 0
    )


def test_identifier_mix_depends_on_age(tables):
    """The young hold more mobile ad ids and cookies, the old more hashed phones."""
    mappings = tables["identity_mappings"]
    people = tables["individuals"].select("individual_id", (F.col("age") < 35).alias("young"))
    held = mappings.groupBy("individual_id").agg(
        *[
            F.max((F.col("identifier_type") == t).cast("int")).alias(t)
            for t in ("mobile_ad_id", "cookie_id", "hashed_phone")
        ]
    )
    rates = {r.young: r for r in people.join(held, "individual_id").groupBy("young").avg().collect()}
    young, old = rates[True], rates[False]
    assert young["avg(mobile_ad_id)"] > old["avg(mobile_ad_id)"] + 0.1
    assert young["avg(cookie_id)"] > old["avg(cookie_id)"] + 0.03
    assert young["avg(hashed_phone)"] < old["avg(hashed_phone)"] - 0.1


def test_identifier_values_are_hashes_uuids_or_ips_and_unique_per_type(tables):
    mappings = tables["identity_mappings"]
    sha = r"^[0-9a-f]{64}$"
    uuid = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    ip = r"^[0-9]{1,3}(\.[0-9]{1,3}){3}$"
    kind = F.col("identifier_type")
    pattern = (
        F.when(kind.isin("email_hash", "hashed_phone"), F.lit(sha))
        .when(kind == "ip_address", F.lit(ip))
        .otherwise(F.lit(uuid))
    )
    assert mappings.where(~F.regexp_like(F.col("identifier_value"), pattern)).count() == 0
    own = mappings.where(~kind.isin("ctv_id", "ip_address"))
    assert own.groupBy("identifier_type", "identifier_value").count().where("count > 1").count() == 0


def test_first_seen_not_after_last_seen_and_active_means_recent(tables):
    mappings = tables["identity_mappings"]
    end = F.lit("2026-11-01 00:00:00").cast("timestamp")
    assert mappings.where(F.col("first_seen") > F.col("last_seen")).count() == 0
    assert mappings.where(F.col("last_seen") >= end).count() == 0
    recent = F.col("last_seen") >= F.lit("2026-10-02 00:00:00").cast("timestamp")
    assert mappings.where(F.col("active") != recent).count() == 0
    active_share = mappings.where("active").count() / mappings.count()
    assert 0.05 < active_share < 0.95
    first_seen_before_person = mappings.join(
        tables["individuals"].select("individual_id", "created_at"), "individual_id"
    ).where(F.col("first_seen") < F.col("created_at"))
    assert first_seen_before_person.count() == 0


def test_email_hash_is_sha256_of_a_normalised_address(spark):
    """The hash is of a lower-case address built from the person's name — reproducible by users."""
    people = spark.createDataFrame(
        [(1, 1, "Ann-Marie", "O'Neil", 40, None)],
        "individual_id BIGINT, household_id BIGINT, first_name STRING, last_name STRING, age INT, created_at TIMESTAMP",
    ).withColumn("created_at", F.lit("2025-01-01 00:00:00").cast("timestamp"))
    config = IdentifiersConfig(type_prevalence={"email_hash": 1.0}, min_per_individual=1, mean_per_individual=1.0)
    row = generate_identity_mappings(spark, people, config, PARAMS).first()
    assert row.identifier_type == "email_hash"
    candidates = {
        __import__("hashlib").sha256(f"annmarie.oneil1@{domain}".encode()).hexdigest()
        for domain in (
            "gmail.com",
            "yahoo.com",
            "outlook.com",
            "hotmail.com",
            "icloud.com",
            "aol.com",
            "comcast.net",
            "proton.me",
        )
    }
    assert row.identifier_value in candidates
    assert re.fullmatch(r"[0-9a-f]{64}", row.identifier_value)
