"""Households: location, income bracket, size and housing type."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from identity_graph.config.identity import HouseholdsConfig
from identity_graph.config.run import RunParameters
from identity_graph.generation import random as R
from identity_graph.generation.common import generates, key_range, timestamp_at
from identity_graph.generation.pools import CITY_SLOTS, city_pool
from identity_graph.model.tables import HOUSEHOLDS

TABLE = HOUSEHOLDS.name

#: Households were formed up to this many days before the event window opens.
HISTORY_DAYS = 5 * 365


@generates(HOUSEHOLDS)
def generate_households(spark: SparkSession, config: HouseholdsConfig, params: RunParameters) -> DataFrame:
    """Exactly ``config.num_households`` households keyed 1..N.

    City, state and ZIP come together from a population-weighted pool of real US
    cities; household_size is a rounded normal clipped (never filtered) into
    [household_size_min, household_size_max]; created_at lies before the event window.
    """
    seed = params.seed
    key = "household_id"

    def u(column: str):
        return R.uniform(seed, TABLE, column, key)

    size = R.clip(
        F.round(
            F.lit(config.household_size_mean)
            + F.lit(config.household_size_stddev) * R.standard_normal(seed, TABLE, "household_size", key)
        ),
        config.household_size_min,
        config.household_size_max,
    ).cast("int")
    created_epoch = F.lit(params.window_start_epoch - 86_400) - u("created_at") * F.lit(HISTORY_DAYS * 86_400)

    base = key_range(spark, config.num_households, key, params.partitions).select(
        key,
        F.floor(u("city") * F.lit(CITY_SLOTS)).cast("int").alias("city_slot"),
        u("zip").alias("_zip_u"),
        R.hash64(seed, TABLE, "zip_suffix", key).alias("_zip_h"),
        R.categorical(u("income_bracket"), config.income_bracket_weights).alias("income_bracket"),
        size.alias("household_size"),
        R.categorical(u("housing_type"), config.housing_type_weights).alias("housing_type"),
        timestamp_at(created_epoch).alias("created_at"),
    )
    prefixes = F.col("zip_prefixes")
    prefix = F.element_at(prefixes, (F.floor(F.col("_zip_u") * F.size(prefixes)) + F.lit(1)).cast("int"))
    suffix = F.lpad((F.pmod(F.col("_zip_h"), F.lit(98)) + F.lit(1)).cast("string"), 2, "0")
    return base.join(F.broadcast(city_pool(spark)), "city_slot").select(
        key,
        "location_city",
        "location_state",
        F.concat(prefix, suffix).alias("location_zip"),
        "income_bracket",
        "household_size",
        "housing_type",
        "created_at",
    )
