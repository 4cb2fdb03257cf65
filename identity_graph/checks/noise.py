"""The noise of identity_observations, realised: each rate over the records it can apply to.

A rate is only meaningful over its eligible records — a nickname needs a first name that has
one, a family-shared email a household with another email holder — so each is measured
over the records that could have carried it, worked out from the observations, their truth
and the identity tables, and compared with what the config asked for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from identity_graph.config.observations import ObservationsConfig
from identity_graph.generation.observations import phonetic_spelling
from identity_graph.model.vocabularies import NICKNAMES, SOURCES

#: A realised rate passes within this many binomial standard errors of the expected one.
STANDARD_ERRORS = 4.5
#: Fewer eligible records than this and a rate is reported but not judged.
MIN_ELIGIBLE = 100
#: A field every person holds, per source: a NULL there is a dropped field.
ALWAYS_HELD = {
    "crm": "postal_code",
    "web_login": "ip_address",
    "mobile_app": "ip_address",
    "ctv_app": "ip_address",
    "data_partner": "postal_code",
}


@dataclass(frozen=True)
class NoiseRate:
    """One noise's realised rate: ``flagged`` of ``eligible`` records, against ``expected``."""

    noise: str
    eligible: int
    flagged: int
    expected: float

    @property
    def realised(self) -> float:
        return self.flagged / self.eligible if self.eligible else 0.0

    @property
    def tolerance(self) -> float:
        p = self.expected
        return STANDARD_ERRORS * math.sqrt(p * (1 - p) / max(self.eligible, 1)) + 1e-9

    @property
    def judged(self) -> bool:
        return self.eligible >= MIN_ELIGIBLE

    @property
    def passed(self) -> bool:
        return not self.judged or abs(self.realised - self.expected) <= self.tolerance


def _has(noise: str) -> Column:
    return F.array_contains("noise", noise)


def realised_noise(
    observations: DataFrame,
    truth: DataFrame,
    individuals: DataFrame,
    mappings: DataFrame,
    config: ObservationsConfig,
) -> list[NoiseRate]:
    """Every noise rate of :class:`ObservationsConfig` as realised in the stored tables.

    Original records (not the duplicates) are measured. Over the records showing both names
    (CRM, data partner): typos at ``name_typo_rate``; nicknames among names that have one,
    initials among those that have none, sound-alike spellings among last names that have
    one. Over records showing a phone or ZIP: digit errors. CRM records show the pre-move
    address at ``moved_rate`` / 2 (capture and move times are uniform over the same span).
    Over holders showing an email (phone) with another holder in the household: family
    sharing. Over phone holders showing a phone: recycled numbers at ``recycled_phone_rate``
    × the share of people holding a phone (a recycled number is someone's). Over web-login
    (mobile-app) records of cookie (MAID) holders showing one: resets. Duplicates per
    original record. Per source, a dropped field at its ``missing_rate``. Two Spark actions.
    """
    held = {"email_hash": "_email", "hashed_phone": "_phone", "cookie_id": "_cookie", "mobile_ad_id": "_maid"}
    holding = mappings.groupBy("individual_id").agg(
        *[F.max(F.col("identifier_type") == t).alias(flag) for t, flag in held.items()]
    )
    people = (
        individuals.select(
            "individual_id",
            "household_id",
            F.col("first_name").alias("_true_first"),
            F.col("last_name").alias("_true_last"),
        )
        .join(holding, "individual_id", "left")
        .fillna(False, subset=list(held.values()))
    )
    household = people.groupBy("household_id").agg(
        F.sum(F.col("_email").cast("int")).alias("_email_holders"),
        F.sum(F.col("_phone").cast("int")).alias("_phone_holders"),
    )
    shares = people.agg(F.count(F.lit(1)).alias("people"), F.sum(F.col("_phone").cast("int")).alias("phones")).first()
    phone_share = (shares["phones"] or 0) / shares["people"] if shares["people"] else 0.0

    records = (
        observations.join(truth.select("observation_id", "individual_id", "noise"), "observation_id")
        .join(people, "individual_id")
        .join(household, "household_id")
    )
    original = ~_has("duplicate")
    both_names = (
        original
        & F.col("source").isin("crm", "data_partner")
        & F.col("first_name").isNotNull()
        & F.col("last_name").isNotNull()
    )
    has_nickname = F.col("_true_first").isin(list(NICKNAMES))
    phone_shown = original & F.col("phone_sha256").isNotNull()
    # (noise, eligible records, the flag, the expected rate)
    measured: list[tuple[str, Column, Column, float]] = [
        ("name_typo", both_names, _has("name_typo"), config.name_typo_rate),
        ("nickname", both_names & has_nickname, _has("nickname"), config.nickname_rate),
        ("initial", both_names & ~has_nickname, _has("initial"), config.initial_rate),
        (
            "phonetic",
            both_names & phonetic_spelling(F.col("_true_last"), F.lit(0.0)).isNotNull(),
            _has("phonetic"),
            config.phonetic_rate,
        ),
        ("phone_digits", phone_shown, _has("phone_digits"), config.phone_error_rate),
        ("postal_digits", original & F.col("postal_code").isNotNull(), _has("postal_digits"), config.postal_error_rate),
        (
            "old_address",
            original & (F.col("source") == "crm") & F.coalesce("postal_code", "city", "state").isNotNull(),
            _has("old_address"),
            config.moved_rate / 2,
        ),
        (
            "shared_email",
            original & F.col("email_sha256").isNotNull() & F.col("_email") & (F.col("_email_holders") > 1),
            _has("shared_email"),
            config.shared_email_rate,
        ),
        (
            "shared_phone",
            phone_shown & F.col("_phone") & (F.col("_phone_holders") > 1) & ~_has("recycled_phone"),
            _has("shared_phone"),
            config.shared_phone_rate,
        ),
        (
            "recycled_phone",
            phone_shown & F.col("source").isin("crm", "data_partner") & F.col("_phone"),
            _has("recycled_phone"),
            config.recycled_phone_rate * phone_share,
        ),
        (
            "cookie_reset",
            original & (F.col("source") == "web_login") & F.col("cookie_id").isNotNull() & F.col("_cookie"),
            _has("cookie_reset"),
            config.cookie_reset_rate,
        ),
        (
            "maid_reset",
            original & (F.col("source") == "mobile_app") & F.col("maid").isNotNull() & F.col("_maid"),
            _has("maid_reset"),
            config.maid_reset_rate,
        ),
        ("duplicate", original, ~original, config.duplicate_rate),
    ]
    measured += [
        (
            f"missing_field[{source}]",
            original & (F.col("source") == source),
            F.col(ALWAYS_HELD[source]).isNull(),
            config.missing_rate.get(source, 0.0),
        )
        for source in SOURCES
    ]
    sums = []
    for i, (_, eligible, flagged, _) in enumerate(measured):
        sums.append(F.sum(F.when(eligible, 1).otherwise(0)).alias(f"n{i}"))
        sums.append(F.sum(F.when(eligible & flagged, 1).otherwise(0)).alias(f"k{i}"))
    # Duplicates are counted over every record: the copies themselves are not "eligible".
    sums.append(F.sum(F.when(~original, 1).otherwise(0)).alias("copies"))
    row = records.agg(*sums).first()
    found = []
    for i, (noise, _, _, expected) in enumerate(measured):
        eligible, flagged = int(row[f"n{i}"] or 0), int(row[f"k{i}"] or 0)
        if noise == "duplicate":
            flagged = int(row["copies"] or 0)
        found.append(NoiseRate(noise, eligible, flagged, expected))
    return found
