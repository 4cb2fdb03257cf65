"""Identity mappings: each person's cross-device identifiers, hashed or UUID-shaped."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from identity_graph.config.identity import IdentifiersConfig
from identity_graph.config.run import RunParameters
from identity_graph.generation import random as R
from identity_graph.generation.common import generates, timestamp_at, with_contiguous_ids
from identity_graph.model.tables import IDENTITY_MAPPINGS

TABLE = IDENTITY_MAPPINGS.name

EMAIL_DOMAINS = {
    "gmail.com": 0.44,
    "yahoo.com": 0.12,
    "outlook.com": 0.11,
    "hotmail.com": 0.08,
    "icloud.com": 0.10,
    "aol.com": 0.04,
    "comcast.net": 0.05,
    "proton.me": 0.06,
}
#: Multiplier coprime with 10: ``key * M mod 10^10`` is a bijection, so phone numbers never collide.
PHONE_MULTIPLIER = 6_364_136_223


def phone_digits(seed: int, mapping_id: Column) -> Column:
    """The ten digits of the phone number a 'hashed_phone' identifier hashes (after "+1")."""
    digits = F.pmod(mapping_id * F.lit(PHONE_MULTIPLIER) + F.lit(seed % 10_000_000_000), F.lit(10_000_000_000))
    return F.lpad(digits.cast("string"), 10, "0")


def uuid_from_hex(hex_digest: Column) -> Column:
    """Format 32 hex digits as a version-4-shaped UUID."""
    h = hex_digest
    return F.concat_ws(
        "-",
        F.substring(h, 1, 8),
        F.substring(h, 9, 4),
        F.concat(F.lit("4"), F.substring(h, 14, 3)),
        F.concat(F.lit("a"), F.substring(h, 18, 3)),
        F.substring(h, 21, 12),
    )


def _normalised(name: str) -> Column:
    return F.regexp_replace(F.lower(F.col(name)), "[^a-z]", "")


@generates(IDENTITY_MAPPINGS)
def generate_identity_mappings(
    spark: SparkSession, individuals: DataFrame, config: IdentifiersConfig, params: RunParameters
) -> DataFrame:
    """Identifiers per individual, between ``min_per_individual`` and ``max_per_individual``.

    Each type is held with its configured prevalence; an individual holding fewer
    types than the minimum gets further identifiers of a type they hold (or of the
    most prevalent type, if none); extra identifiers (more cookies, devices, emails)
    follow a geometric distribution sized so the mean is ``mean_per_individual``.
    Emails and phones are SHA-256 hex of a normalised synthetic value; ad, device,
    cookie and CTV ids are UUID-shaped. first_seen ≤ last_seen ≤ end of the window.
    """
    seed = params.seed
    key = "individual_id"

    def u(column: str, *keys: str | Column) -> Column:
        return R.uniform(seed, TABLE, column, key, *keys)

    prevalence = config.type_prevalence
    fallback_type = max(prevalence, key=lambda t: prevalence[t])
    held_flags = [F.when(u(f"holds_{t}") < F.lit(p), F.lit(t)) for t, p in prevalence.items() if p > 0]
    held = F.filter(F.array(*held_flags), lambda t: t.isNotNull())
    extra_mean = max(0.0, config.mean_per_individual - sum(prevalence.values()))

    people = (
        individuals.select(key, "first_name", "last_name", "created_at")
        .withColumn("_held", held)
        .withColumn("_held", F.when(F.size("_held") == 0, F.array(F.lit(fallback_type))).otherwise(F.col("_held")))
        .withColumn("_held_count", F.size("_held"))
        .withColumn(
            "_count",
            R.clip(
                F.col("_held_count") + R.geometric(seed, TABLE, "extra_identifiers", extra_mean, key),
                config.min_per_individual,
                config.max_per_individual,
            ).cast("int"),
        )
    )
    slots = with_contiguous_ids(people, key, "_count", "_offset").select(
        "*", F.explode(F.sequence(F.lit(1), F.col("_count"))).alias("_slot")
    )
    extra_type = F.element_at(
        "_held", (F.floor(u("extra_type", "_slot") * F.col("_held_count")) + F.lit(1)).cast("int")
    )
    slots = slots.withColumn("mapping_id", F.col("_offset") + F.col("_slot")).withColumn(
        "identifier_type",
        F.when(F.col("_slot") <= F.col("_held_count"), F.element_at("_held", F.col("_slot"))).otherwise(extra_type),
    )

    digest = F.sha2(F.concat_ws("|", F.lit(seed), F.col("identifier_type"), F.col("mapping_id")), 256)
    email = F.concat(
        _normalised("first_name"),
        F.lit("."),
        _normalised("last_name"),
        F.col(key).cast("string"),
        F.when(F.col("_slot") > F.col("_held_count"), F.concat(F.lit("."), F.col("_slot").cast("string"))).otherwise(
            F.lit("")
        ),
        F.lit("@"),
        R.categorical(R.uniform(seed, TABLE, "email_domain", "mapping_id"), EMAIL_DOMAINS),
    )
    phone = F.concat(F.lit("+1"), phone_digits(seed, F.col("mapping_id")))
    uuid = uuid_from_hex(digest)
    value = (
        F.when(F.col("identifier_type") == "email_hash", F.sha2(email, 256))
        .when(F.col("identifier_type") == "hashed_phone", F.sha2(phone, 256))
        .when(F.col("identifier_type") == "mobile_ad_id", F.upper(uuid))
        .otherwise(uuid)
    )

    created = F.unix_timestamp("created_at")
    end = F.lit(params.end_epoch - 1)
    first_seen = created + R.uniform(seed, TABLE, "first_seen", "mapping_id") * F.lit(0.9) * (end - created)
    # Recent activity is common: last_seen skews toward the end of the window.
    recency = F.lit(1.0) - F.pow(R.uniform(seed, TABLE, "last_seen", "mapping_id"), F.lit(3.0))
    slots = slots.withColumn("_first", F.floor(first_seen)).withColumn(
        "_last", F.floor(F.col("_first") + recency * (end - F.col("_first")))
    )
    active_since = params.end_epoch - config.active_window_days * 86_400
    return slots.select(
        "mapping_id",
        key,
        "identifier_type",
        value.alias("identifier_value"),
        timestamp_at(F.col("_first")).alias("first_seen"),
        timestamp_at(F.col("_last")).alias("last_seen"),
        (F.col("_last") >= F.lit(active_since)).alias("active"),
    )
