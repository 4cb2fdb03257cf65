"""Identity observations: the records source systems hold about people, noised, with their truth.

One generator draws both tables from the same hashes: :func:`observed_records` returns every
record with its true person and the noise it carries; identity_observations keeps what a
source saw, identity_truth keeps whose each record is. The two assets each call it, so the
truth is rebuilt from the same draws rather than read from the observations.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from identity_graph.config.observations import ObservationsConfig
from identity_graph.config.run import RunParameters
from identity_graph.generation import random as R
from identity_graph.generation.common import generates, timestamp_at
from identity_graph.generation.identity_mappings import ipv4, phone_digits, uuid_from_hex
from identity_graph.generation.pools import CITY_SLOTS, city_pool
from identity_graph.model.tables import IDENTITY_OBSERVATIONS, IDENTITY_TRUTH
from identity_graph.model.vocabularies import NICKNAMES, OBSERVED_FIELDS, PHONETIC_SWAPS, SOURCE_FIELDS

TABLE = IDENTITY_OBSERVATIONS.name
#: Most records per person (the geometric tail is clipped here, so record keys stay unique).
MAX_RECORDS_PER_PERSON = 1000
#: A duplicate is captured up to this many days after the record it copies.
DUPLICATE_LAG_DAYS = 30
#: Share of mobile-app records captured on the home network (the rest on a carrier's).
MOBILE_HOME_IP_SHARE = 0.6
#: Buckets used to number the records in a random order without one global sort.
ID_BUCKETS = 1024
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _first_of_type(identifier_type: str) -> Column:
    """The (mapping_id, identifier_value) of a person's first identifier of ``identifier_type``."""
    return F.min(
        F.when(
            F.col("identifier_type") == identifier_type,
            F.struct(F.col("mapping_id").alias("mapping_id"), F.col("identifier_value").alias("value")),
        )
    )


def digit_error(digits: Column, kind: Column, position: Column, shift: Column) -> Column:
    """``digits`` with two adjacent digits swapped (``kind`` < 0.5, when they differ) or one digit
    replaced by another; ``position``, ``kind`` and ``shift`` are uniform draws. Never returns ``digits``."""
    length = F.length(digits)
    pos = (F.floor(position * (length - F.lit(1))) + F.lit(1)).cast("int")
    prefix = F.substr(digits, F.lit(1), pos - F.lit(1))
    here = F.substr(digits, pos, F.lit(1))
    after = F.substr(digits, pos + F.lit(1), F.lit(1))
    rest = F.substr(digits, pos + F.lit(2), length)
    swap = F.concat(prefix, after, here, rest)
    wrong_digit = F.pmod(here.cast("int") + F.lit(1) + F.floor(shift * F.lit(9)).cast("int"), F.lit(10)).cast("string")
    replace = F.concat(prefix, wrong_digit, F.substr(digits, pos + F.lit(1), length))
    return F.when((kind < F.lit(0.5)) & (here != after), swap).otherwise(replace)


def letter_error(name: Column, kind: Column, position: Column, shift: Column) -> Column:
    """``name`` with one letter dropped (``kind`` < 0.4, names of three letters or more) or replaced
    by another letter, keeping its case. Never returns ``name``."""
    length = F.length(name)
    pos = (F.floor(position * length) + F.lit(1)).cast("int")
    prefix = F.substr(name, F.lit(1), pos - F.lit(1))
    here = F.substr(name, pos, F.lit(1))
    rest = F.substr(name, pos + F.lit(1), length)
    index = F.instr(F.lit(LETTERS), F.lower(here)) - F.lit(1)
    # A letter other than ``here``; a non-letter (an apostrophe, a hyphen) becomes a letter.
    other = F.substr(
        F.lit(LETTERS),
        (F.pmod(F.greatest(index, F.lit(0)) + F.lit(1) + F.floor(shift * F.lit(25)).cast("int"), F.lit(26)) + 1).cast(
            "int"
        ),
        F.lit(1),
    )
    other = F.when(here == F.upper(here), F.upper(other)).otherwise(other)
    dropped = F.concat(prefix, rest)
    replaced = F.concat(prefix, other, rest)
    return F.when((kind < F.lit(0.4)) & (length >= F.lit(3)), dropped).otherwise(replaced)


def phonetic_spelling(name: Column, choice: Column) -> Column:
    """``name`` spelled by sound: one of the :data:`PHONETIC_SWAPS` that change it, picked by
    ``choice`` (a uniform draw); NULL when none applies."""
    candidates = F.array(
        *[F.initcap(F.regexp_replace(F.lower(name), pattern, swap)) for pattern, swap in PHONETIC_SWAPS]
    )
    changed = F.filter(candidates, lambda spelled: spelled != F.initcap(F.lower(name)))
    count = F.size(changed)
    return F.when(count > 0, F.element_at(changed, (F.floor(choice * count) + F.lit(1)).cast("int")))


def _other_member(members: str, field: str) -> Column:
    """``field`` of the first entry of the array column ``members`` that is not this row's person."""
    others = F.filter(members, lambda m: m["individual_id"] != F.col("individual_id"))
    return F.when(F.size(others) > 0, F.element_at(others, 1)[field])


def observed_records(
    spark: SparkSession,
    households: DataFrame,
    individuals: DataFrame,
    identity_mappings: DataFrame,
    config: ObservationsConfig,
    params: RunParameters,
) -> DataFrame:
    """Every record the sources hold, with the observed fields and ``individual_id``,
    ``household_id`` and ``noise`` (the truth).

    Each person has 1 + geometric(records_per_person_mean − 1) records (capped at
    :data:`MAX_RECORDS_PER_PERSON`), each from a source drawn by ``source_weights`` and captured
    at a time between the person joining and the window's end; a record is held twice with
    ``duplicate_rate``. A record carries its source's fields (:data:`SOURCE_FIELDS`), each
    missing with the source's ``missing_rate``, and the person's own values — the first
    identifier of each type they hold, the household's address, home IP and CTV id — except
    where noise replaces them: misspelt, nicknamed or initialled names, wrong phone and ZIP
    digits, an address from before the person moved, a household member's email or phone, a
    phone recycled from an unrelated person, a fresh cookie or MAID. ``noise`` names what was
    applied to the record as the source holds it (a field dropped as missing carries none).
    Observation ids are 1..N in an order drawn from the hashes, so they say nothing about who.
    """
    seed = params.seed
    end = params.end_epoch - 1

    def u(column: str, *keys: str | Column) -> Column:
        return R.uniform(seed, TABLE, column, *keys)

    identifiers = identity_mappings.groupBy("individual_id").agg(
        _first_of_type("email_hash").alias("_email"),
        _first_of_type("hashed_phone").alias("_phone"),
        _first_of_type("mobile_ad_id").alias("_maid"),
        _first_of_type("cookie_id").alias("_cookie"),
        _first_of_type("ctv_id").alias("_ctv"),
        _first_of_type("ip_address").alias("_home_ip"),
    )
    people = (
        individuals.select("individual_id", "household_id", "first_name", "last_name", "created_at")
        .join(identifiers, "individual_id", "left")
        .select(
            "individual_id",
            "household_id",
            "first_name",
            "last_name",
            F.unix_timestamp("created_at").alias("_joined"),
            F.col("_email.value").alias("email"),
            F.when(F.col("_phone").isNotNull(), phone_digits(seed, F.col("_phone.mapping_id"))).alias("phone"),
            F.col("_maid.value").alias("maid"),
            F.col("_cookie.value").alias("cookie"),
            "_ctv",
            F.col("_home_ip.value").alias("_home_ip"),
        )
    )
    # What the household shares: members' emails and phones (a family inbox or line) and its CTV id.
    members = people.groupBy("household_id").agg(
        F.sort_array(F.collect_list(F.when(F.col("email").isNotNull(), F.struct("individual_id", "email")))).alias(
            "_emails"
        ),
        F.sort_array(F.collect_list(F.when(F.col("phone").isNotNull(), F.struct("individual_id", "phone")))).alias(
            "_phones"
        ),
        F.min("_ctv").alias("_household_ctv"),
    )
    addresses = households.select(
        "household_id",
        F.col("location_city").alias("_city"),
        F.col("location_state").alias("_state"),
        F.col("location_zip").alias("_zip"),
    )
    # Movers: a previous address from the population-weighted city pool, left at a time between
    # joining and the window's end.
    moved = u("moved", "individual_id") < F.lit(config.moved_rate)
    people = (
        people.join(members, "household_id")
        .join(addresses, "household_id")
        .withColumn("_ctv", F.col("_household_ctv.value"))
        .withColumn(
            "_moved_at",
            F.when(moved, F.col("_joined") + u("moved_at", "individual_id") * (F.lit(end) - F.col("_joined"))),
        )
        .withColumn("city_slot", F.floor(u("old_city", "individual_id") * F.lit(CITY_SLOTS)).cast("int"))
    )
    old_prefix = F.element_at(
        "zip_prefixes", (F.floor(u("old_zip", "individual_id") * F.size("zip_prefixes")) + F.lit(1)).cast("int")
    )
    old_suffix = F.lpad((F.floor(u("old_zip_suffix", "individual_id") * F.lit(98)) + F.lit(1)).cast("string"), 2, "0")
    people = (
        people.join(F.broadcast(city_pool(spark)), "city_slot")
        .withColumn("_old_city", F.col("location_city"))
        .withColumn("_old_state", F.col("location_state"))
        .withColumn("_old_zip", F.concat(old_prefix, old_suffix))
        .drop("city_slot", "location_city", "location_state", "zip_prefixes", "_household_ctv")
    )

    # Records: one slot per record a source holds, two rows for a record held twice.
    extra = R.geometric(seed, TABLE, "records", config.records_per_person_mean - 1.0, "individual_id")
    count = F.least(F.lit(1) + extra, F.lit(MAX_RECORDS_PER_PERSON))
    slots = people.withColumn("_slot", F.explode(F.sequence(F.lit(1), count)))
    slots = slots.withColumn("_record", F.col("individual_id") * F.lit(MAX_RECORDS_PER_PERSON) + F.col("_slot"))
    held_twice = u("duplicate", "_record") < F.lit(config.duplicate_rate)
    copies = F.when(held_twice, F.array(F.lit(1), F.lit(2))).otherwise(F.array(F.lit(1)))
    rows = slots.withColumn("_copy", F.explode(copies))
    rows = rows.withColumn("_row", F.col("_record") * F.lit(2) + F.col("_copy"))

    def v(column: str) -> Column:
        """A draw per row (a copy draws its own noise)."""
        return u(column, "_row")

    # The record is built in stages, each a single projection whose costly values (a nickname
    # lookup, sound-alike spellings, another member's phone) later stages read by name: chained
    # withColumn calls or repeated inline expressions would grow the plan past the driver's memory.
    captured = F.col("_joined") + u("observed_at", "_record") * (F.lit(end) - F.col("_joined"))
    lag = v("duplicate_lag") * F.lit(DUPLICATE_LAG_DAYS * 86_400)
    recycle = v("recycled_phone") < F.lit(config.recycled_phone_rate)
    person_count = individuals.agg(F.max("individual_id")).first()[0] or 1
    rows = rows.withColumns(
        {
            "source": R.categorical(u("source", "_record"), config.source_weights),
            "_observed": F.floor(F.when(F.col("_copy") == 2, F.least(captured + lag, F.lit(end))).otherwise(captured)),
            "_nickname": R.lookup("first_name", dict(NICKNAMES)),
            "_spelled": phonetic_spelling(F.col("last_name"), v("phonetic_choice")),
            "_other_email": _other_member("_emails", "email"),
            "_other_phone": _other_member("_phones", "phone"),
            # A recycled number belonged to someone else first: another person's phone, drawn across the graph.
            "_previous_holder": F.when(
                recycle, R.uniform_int(seed, TABLE, "previous_holder", 1, int(person_count), "_row").cast("bigint")
            ),
        }
    )
    phones = people.where(F.col("phone").isNotNull()).select(
        F.col("individual_id").alias("_previous_holder"), F.col("phone").alias("_recycled")
    )
    rows = rows.join(phones, "_previous_holder", "left")

    # What noise is drawn.
    typo = v("name_typo") < F.lit(config.name_typo_rate)
    nicknamed = F.col("_nickname").isNotNull() & (v("nickname") < F.lit(config.nickname_rate))
    recycled = F.col("_recycled").isNotNull() & (F.col("_previous_holder") != F.col("individual_id"))
    rows = rows.withColumns(
        {
            "_nicknamed": nicknamed,
            "_initialled": ~nicknamed & (v("initial") < F.lit(config.initial_rate)),
            "_by_sound": F.col("_spelled").isNotNull() & (v("phonetic") < F.lit(config.phonetic_rate)),
            "_typo": typo,
            "_typo_in_first": v("typo_field") < F.lit(0.5),
            "_shared_email": F.col("_other_email").isNotNull() & (v("shared_email") < F.lit(config.shared_email_rate)),
            "_recycled_phone": recycled,
            "_shared_phone": ~recycled
            & F.col("_other_phone").isNotNull()
            & (v("shared_phone") < F.lit(config.shared_phone_rate)),
            "_old_address": F.col("_moved_at").isNotNull() & (F.col("_observed") < F.col("_moved_at")),
            "_postal_digits": v("postal_error") < F.lit(config.postal_error_rate),
            "_cookie_reset": (F.col("source") == "web_login") & (v("cookie_reset") < F.lit(config.cookie_reset_rate)),
            "_maid_reset": (F.col("source") == "mobile_app") & (v("maid_reset") < F.lit(config.maid_reset_rate)),
        }
    )
    # The values before digit and letter errors.
    rows = rows.withColumns(
        {
            "_typo_first": F.col("_typo") & ~F.col("_initialled") & F.col("_typo_in_first"),
            "_typo_last": F.col("_typo") & ~(~F.col("_initialled") & F.col("_typo_in_first")),
            "_first": F.when(F.col("_nicknamed"), F.col("_nickname"))
            .when(F.col("_initialled"), F.substr("first_name", F.lit(1), F.lit(1)))
            .otherwise(F.col("first_name")),
            "_last": F.when(F.col("_by_sound"), F.col("_spelled")).otherwise(F.col("last_name")),
            "_email": F.when(F.col("_shared_email"), F.col("_other_email")).otherwise(F.col("email")),
            "_phone": F.when(F.col("_recycled_phone"), F.col("_recycled"))
            .when(F.col("_shared_phone"), F.col("_other_phone"))
            .otherwise(F.col("phone")),
            "_zip_seen": F.when(F.col("_old_address"), F.col("_old_zip")).otherwise(F.col("_zip")),
        }
    )
    # Digit and letter errors, devices and networks.
    fresh = uuid_from_hex(F.sha2(F.concat_ws("|", F.lit(seed), F.lit("fresh"), F.col("_row")), 256))
    home = (F.col("source") != "mobile_app") | (v("home_network") < F.lit(MOBILE_HOME_IP_SHARE))
    web_device = R.categorical(v("web_device"), {"desktop": 0.6, "mobile": 0.3, "tablet": 0.1})
    wrong_phone = F.col("_phone").isNotNull() & (v("phone_error") < F.lit(config.phone_error_rate))
    rows = rows.withColumns(
        {
            "_first": F.when(
                F.col("_typo_first"),
                letter_error(F.col("_first"), v("typo_kind"), v("typo_position"), v("typo_letter")),
            ).otherwise(F.col("_first")),
            "_last": F.when(
                F.col("_typo_last"), letter_error(F.col("_last"), v("typo_kind"), v("typo_position"), v("typo_letter"))
            ).otherwise(F.col("_last")),
            "_phone_digits": wrong_phone,
            "_phone": F.when(
                wrong_phone, digit_error(F.col("_phone"), v("phone_kind"), v("phone_position"), v("phone_digit"))
            ).otherwise(F.col("_phone")),
            "_postal": F.when(
                F.col("_postal_digits"),
                digit_error(F.col("_zip_seen"), v("zip_kind"), v("zip_position"), v("zip_digit")),
            ).otherwise(F.col("_zip_seen")),
            "_city_seen": F.when(F.col("_old_address"), F.col("_old_city")).otherwise(F.col("_city")),
            "_state_seen": F.when(F.col("_old_address"), F.col("_old_state")).otherwise(F.col("_state")),
            "_cookie": F.when(F.col("_cookie_reset"), fresh).otherwise(F.col("cookie")),
            "_maid": F.when(F.col("_maid_reset"), F.upper(fresh)).otherwise(F.col("maid")),
            # A household without a home network (no ip_address identifier) is seen on a carrier's.
            "_ip": F.when(home & F.col("_home_ip").isNotNull(), F.col("_home_ip")).otherwise(
                ipv4(R.hash64(seed, TABLE, "carrier_ip", "_row"))
            ),
            "_device": F.when(F.col("source") == "web_login", web_device)
            .when(F.col("source") == "mobile_app", F.lit("mobile"))
            .when(F.col("source") == "ctv_app", F.lit("ctv")),
        }
    )

    values = {
        "first_name": F.col("_first"),
        "last_name": F.col("_last"),
        "email_sha256": F.col("_email"),
        "phone_sha256": F.when(F.col("_phone").isNotNull(), F.sha2(F.concat(F.lit("+1"), F.col("_phone")), 256)),
        "postal_code": F.col("_postal"),
        "city": F.col("_city_seen"),
        "state": F.col("_state_seen"),
        "ip_address": F.col("_ip"),
        "cookie_id": F.col("_cookie"),
        "maid": F.col("_maid"),
        "ctv_id": F.col("_ctv"),
        "device_type": F.col("_device"),
    }
    # Which captured fields the record keeps: each is missing with its source's rate.
    missing_rate = R.lookup("source", {s: config.missing_rate.get(s, 0.0) for s in SOURCE_FIELDS})
    rows = rows.withColumn("_missing_rate", missing_rate).withColumns(
        {
            f"_shown_{field}": F.col("source").isin([s for s, fields in SOURCE_FIELDS.items() if field in fields])
            & (v(f"missing_{field}") >= F.col("_missing_rate"))
            for field in OBSERVED_FIELDS
        }
    )

    def shown(field: str) -> Column:
        return F.col(f"_shown_{field}")

    captures = {
        f: F.col("source").isin([s for s, fields in SOURCE_FIELDS.items() if f in fields]) for f in OBSERVED_FIELDS
    }
    dropped = F.lit(False)
    for field in OBSERVED_FIELDS:
        dropped = dropped | (captures[field] & ~shown(field) & values[field].isNotNull())
    noise = {
        "name_typo": (F.col("_typo_first") & shown("first_name")) | (F.col("_typo_last") & shown("last_name")),
        "phonetic": F.col("_by_sound") & shown("last_name"),
        "nickname": F.col("_nicknamed") & shown("first_name"),
        "initial": F.col("_initialled") & shown("first_name"),
        "missing_field": dropped,
        "phone_digits": F.col("_phone_digits") & shown("phone_sha256"),
        "postal_digits": F.col("_postal_digits") & shown("postal_code"),
        "old_address": F.col("_old_address") & (shown("postal_code") | shown("city") | shown("state")),
        "shared_email": F.col("_shared_email") & shown("email_sha256"),
        "shared_phone": F.col("_shared_phone") & shown("phone_sha256"),
        "cookie_reset": F.col("_cookie_reset") & shown("cookie_id"),
        "maid_reset": F.col("_maid_reset") & shown("maid"),
        "recycled_phone": F.col("_recycled_phone") & shown("phone_sha256"),
        "duplicate": F.col("_copy") == 2,
    }
    applied = F.filter(
        F.array(*[F.when(flag, F.lit(name)) for name, flag in noise.items()]), lambda name: name.isNotNull()
    )
    records = rows.select(
        "_row",
        "individual_id",
        "household_id",
        "source",
        timestamp_at(F.col("_observed")).alias("observed_at"),
        *[F.when(shown(field), column).alias(field) for field, column in values.items()],
        applied.alias("noise"),
    )
    return _numbered_in_random_order(records, seed)


def _numbered_in_random_order(records: DataFrame, seed: int) -> DataFrame:
    """``records`` with ``observation_id`` 1..N in the order of a hash of ``_row``.

    Rows fall into :data:`ID_BUCKETS` buckets by the hash; a bucket's offset is the count of
    the buckets before it (a table of ID_BUCKETS rows), and rows are numbered within their
    bucket — so no single partition ever sorts all the rows.
    """
    shuffled = records.withColumn(
        "_bucket", F.floor(R.uniform(seed, TABLE, "order", "_row") * F.lit(ID_BUCKETS))
    ).withColumn("_order", R.hash64(seed, TABLE, "order#2", "_row"))
    totals = shuffled.groupBy("_bucket").count()
    before = Window.orderBy("_bucket").rowsBetween(Window.unboundedPreceding, -1)
    offsets = totals.select("_bucket", F.coalesce(F.sum("count").over(before), F.lit(0)).alias("_bucket_offset"))
    within = Window.partitionBy("_bucket").orderBy("_order", "_row")
    return (
        shuffled.join(F.broadcast(offsets), "_bucket")
        .withColumn("observation_id", (F.col("_bucket_offset") + F.row_number().over(within)).cast("bigint"))
        .drop("_bucket", "_order", "_bucket_offset", "_row")
    )


@generates(IDENTITY_OBSERVATIONS)
def generate_identity_observations(
    spark: SparkSession,
    households: DataFrame,
    individuals: DataFrame,
    identity_mappings: DataFrame,
    config: ObservationsConfig,
    params: RunParameters,
) -> DataFrame:
    """The observed side of :func:`observed_records`: what each source holds, no true key."""
    return observed_records(spark, households, individuals, identity_mappings, config, params)


@generates(IDENTITY_TRUTH)
def generate_identity_truth(
    spark: SparkSession,
    households: DataFrame,
    individuals: DataFrame,
    identity_mappings: DataFrame,
    config: ObservationsConfig,
    params: RunParameters,
) -> DataFrame:
    """The truth side of :func:`observed_records`: each record's person, household and noise."""
    return observed_records(spark, households, individuals, identity_mappings, config, params)
