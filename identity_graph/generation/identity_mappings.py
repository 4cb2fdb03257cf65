"""Identity mappings: each person's cross-device identifiers, hashed or UUID-shaped."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from identity_graph.config.identity import IdentifiersConfig
from identity_graph.config.run import RunParameters
from identity_graph.generation import random as R
from identity_graph.generation.common import generates, timestamp_at, value_shares, with_contiguous_ids
from identity_graph.model.tables import IDENTITY_MAPPINGS
from identity_graph.model.vocabularies import IDENTIFIER_SCOPE, IDENTIFIER_TYPES

HOUSEHOLD_TYPES = tuple(t for t, scope in IDENTIFIER_SCOPE.items() if scope == "household")
#: Identifier types held more often by the young ("young") or by the old ("old"); the rest
#: do not depend on age.
AGE_LEANING = {"mobile_ad_id": "young", "cookie_id": "young", "hashed_phone": "old"}
#: Half-width of the noise around a person's age quantile from which those types are drawn
#: (0 would tie them to age entirely, 1 nearly frees them).
AGE_SPREAD = 0.7

#: Share of each type's identifiers still in use when the window ends (last_seen is then the
#: window's end): hashed emails and phones last for years, a device's ids as long as the device,
#: a home network's IP and the CTV set for years; browsers' cookies are cleared often. The rest
#: stopped being seen somewhere between first_seen and the window's end.
IN_USE_AT_END = {
    "email_hash": 0.85,
    "hashed_phone": 0.8,
    "ctv_id": 0.8,
    "ip_address": 0.75,
    "device_id": 0.7,
    "mobile_ad_id": 0.65,
    "cookie_id": 0.45,
}

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


def ipv4(hash_value: Column) -> Column:
    """A public-looking IPv4 address from a 64-bit hash (first octet in 24..223)."""
    octets = [
        F.lit(24) + F.pmod(hash_value, F.lit(200)),
        F.pmod(F.shiftright(hash_value, 8), F.lit(256)),
        F.pmod(F.shiftright(hash_value, 16), F.lit(256)),
        F.lit(1) + F.pmod(F.shiftright(hash_value, 24), F.lit(254)),
    ]
    return F.concat_ws(".", *[o.cast("string") for o in octets])


def _normalised(name: str) -> Column:
    return F.regexp_replace(F.lower(F.col(name)), "[^a-z]", "")


@generates(IDENTITY_MAPPINGS)
def generate_identity_mappings(
    spark: SparkSession, individuals: DataFrame, config: IdentifiersConfig, params: RunParameters
) -> DataFrame:
    """Identifiers per individual, between ``min_per_individual`` and ``max_per_individual``.

    Each type has a scope (:data:`IDENTIFIER_SCOPE`). A person or device identifier is held
    by a share ``type_prevalence`` of individuals, and how likely depends on age while that
    share stays the configured one: the young hold mobile ad ids and cookies more often,
    hashed phones less often. A household identifier (the CTV id, the home IP) is held by a
    share ``type_prevalence`` of households, and then by every member, with the same value.
    An individual holding fewer identifiers than the minimum gets further ones of a person
    or device type they hold (or the most prevalent such type); extra identifiers (more
    cookies, devices, emails) follow a geometric distribution sized so the mean is
    ``mean_per_individual``. Emails and phones are SHA-256 hex of a normalised synthetic
    value; ad, device, cookie and CTV ids are UUID-shaped, home IPs dotted IPv4.
    first_seen ≤ last_seen ≤ end of the window; a share :data:`IN_USE_AT_END` of each type is
    still in use (last_seen at the window's end), the rest stopped being seen earlier.
    """
    seed = params.seed
    key = "individual_id"

    def u(column: str, *keys: str | Column) -> Column:
        return R.uniform(seed, TABLE, column, key, *keys)

    prevalence = {t: p for t, p in config.type_prevalence.items() if p > 0}
    own_types = [t for t in prevalence if IDENTIFIER_SCOPE[t] != "household"]
    household_types = [t for t in prevalence if IDENTIFIER_SCOPE[t] == "household"]
    fallback_type = max(
        own_types or [t for t in IDENTIFIER_TYPES if IDENTIFIER_SCOPE[t] != "household"],
        key=lambda t: prevalence.get(t, 0.0),
    )
    # Age quantile: uniform over the individuals, 0 for the youngest.
    age_quantile = F.col("_below") + F.col("_share") * u("age_quantile")

    def holds(identifier_type: str) -> Column:
        lean = AGE_LEANING.get(identifier_type)
        draw = (
            u(f"holds_{identifier_type}")
            if lean is None
            else R.near(
                age_quantile if lean == "young" else F.lit(1.0) - age_quantile,
                AGE_SPREAD,
                seed,
                TABLE,
                f"holds_{identifier_type}",
                key,
            )
        )
        return F.when(draw < F.lit(prevalence[identifier_type]), F.lit(identifier_type))

    def household_holds(identifier_type: str) -> Column:
        draw = R.uniform(seed, TABLE, f"household_holds_{identifier_type}", "household_id")
        return F.when(draw < F.lit(prevalence[identifier_type]), F.lit(identifier_type))

    held = F.filter(F.array(*[holds(t) for t in own_types], F.lit(None).cast("string")), lambda t: t.isNotNull())
    shared = F.filter(
        F.array(*[household_holds(t) for t in household_types], F.lit(None).cast("string")), lambda t: t.isNotNull()
    )
    extra_mean = max(0.0, config.mean_per_individual - sum(prevalence.values()))

    people = (
        individuals.select(key, "household_id", "first_name", "last_name", "age", "created_at")
        .join(F.broadcast(value_shares(individuals, "age")), "age")
        .withColumn("_held", held)
        .withColumn("_shared", shared)
        .withColumn(
            "_held",
            F.when(F.size("_held") + F.size("_shared") == 0, F.array(F.lit(fallback_type))).otherwise(F.col("_held")),
        )
        .withColumn("_held_count", F.size("_held"))
        .withColumn("_base_count", F.col("_held_count") + F.size("_shared"))
        .withColumn(
            "_count",
            R.clip(
                F.col("_base_count") + R.geometric(seed, TABLE, "extra_identifiers", extra_mean, key),
                config.min_per_individual,
                config.max_per_individual,
            ).cast("int"),
        )
    )
    slots = with_contiguous_ids(people, key, "_count", "_offset").select(
        "*", F.explode(F.sequence(F.lit(1), F.col("_count"))).alias("_slot")
    )
    # Extras are further identifiers of a person or device type the person holds (the fallback
    # type when they hold household identifiers only).
    extra_pool = F.when(F.col("_held_count") > 0, F.col("_held")).otherwise(F.array(F.lit(fallback_type)))
    extra_type = F.element_at(
        extra_pool, (F.floor(u("extra_type", "_slot") * F.size(extra_pool)) + F.lit(1)).cast("int")
    )
    slots = (
        slots.withColumn("mapping_id", F.col("_offset") + F.col("_slot"))
        .withColumn(
            "identifier_type",
            F.when(F.col("_slot") <= F.col("_held_count"), F.element_at("_held", F.col("_slot")))
            .when(
                F.col("_slot") <= F.col("_base_count"),
                F.element_at("_shared", F.col("_slot") - F.col("_held_count")),
            )
            .otherwise(extra_type),
        )
        .withColumn("_household_scope", F.col("identifier_type").isin(*HOUSEHOLD_TYPES))
    )

    digest = F.sha2(F.concat_ws("|", F.lit(seed), F.col("identifier_type"), F.col("mapping_id")), 256)
    household_digest = F.sha2(
        F.concat_ws("|", F.lit(seed), F.col("identifier_type"), F.lit("household"), F.col("household_id")), 256
    )
    email = F.concat(
        _normalised("first_name"),
        F.lit("."),
        _normalised("last_name"),
        F.col(key).cast("string"),
        F.when(F.col("_slot") > F.col("_base_count"), F.concat(F.lit("."), F.col("_slot").cast("string"))).otherwise(
            F.lit("")
        ),
        F.lit("@"),
        R.categorical(R.uniform(seed, TABLE, "email_domain", "mapping_id"), EMAIL_DOMAINS),
    )
    phone = F.concat(F.lit("+1"), phone_digits(seed, F.col("mapping_id")))
    identifier_type = F.col("identifier_type")
    value = (
        F.when(identifier_type == "email_hash", F.sha2(email, 256))
        .when(identifier_type == "hashed_phone", F.sha2(phone, 256))
        .when(identifier_type == "mobile_ad_id", F.upper(uuid_from_hex(digest)))
        .when(identifier_type == "ip_address", ipv4(R.hash64(seed, TABLE, "home_ip", "household_id")))
        .when(F.col("_household_scope"), uuid_from_hex(household_digest))
        .otherwise(uuid_from_hex(digest))
    )

    # A household identifier's draws are the household's, so its members' spans are alike
    # (each starting no earlier than the member joined).
    draw_key = F.when(
        F.col("_household_scope"), F.concat(F.lit("h"), F.col("household_id").cast("string"), identifier_type)
    ).otherwise(F.col("mapping_id").cast("string"))
    created = F.unix_timestamp("created_at")
    end = F.lit(params.end_epoch - 1)
    first_seen = created + R.uniform(seed, TABLE, "first_seen", draw_key) * F.lit(0.9) * (end - created)
    # An identifier still in use is seen until the window's end; one no longer in use was last
    # seen between first_seen and then, skewed toward the end (recent activity is common).
    in_use = R.uniform(seed, TABLE, "in_use", draw_key) < R.lookup(identifier_type, IN_USE_AT_END)
    recency = F.when(in_use, F.lit(1.0)).otherwise(
        F.lit(1.0) - F.pow(R.uniform(seed, TABLE, "last_seen", draw_key), F.lit(3.0))
    )
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
