"""Config of the identity-resolution tables: how many records sources hold, and their noise."""

from typing import ClassVar

from pydantic import Field

from identity_graph.config.fields import Probability, TableConfig, probabilities_over, weights_over
from identity_graph.model.tables import IDENTITY_OBSERVATIONS
from identity_graph.model.vocabularies import SOURCES

#: Most records a source system may hold per person on average.
MAX_RECORDS_PER_PERSON = 50.0


class ObservationsConfig(TableConfig):
    """Identity observations: the records source systems hold about people, and the noise in them.

    Every rate is a probability per record (``moved_rate`` per person); identity_truth lists
    the noise each record carries, and the table's checks compare each realised rate with
    its setting. All rates 0 (and ``missing_rate`` 0 for every source) gives clean records.
    """

    table: ClassVar[str] = IDENTITY_OBSERVATIONS.name

    records_per_person_mean: float = Field(
        default=3.0,
        ge=1.0,
        le=MAX_RECORDS_PER_PERSON,
        description=f"Mean records per person across all sources (≥ 1: everyone has at least one; ≤ {MAX_RECORDS_PER_PERSON:g}).",
    )
    source_weights: weights_over(SOURCES) = Field(
        default={"crm": 0.25, "web_login": 0.30, "mobile_app": 0.20, "ctv_app": 0.10, "data_partner": 0.15},
        description=f"Share of records per source system; keys from {list(SOURCES)}; sum to 1.",
    )
    missing_rate: probabilities_over(SOURCES) = Field(
        default={"crm": 0.05, "web_login": 0.05, "mobile_app": 0.15, "ctv_app": 0.15, "data_partner": 0.30},
        description="Per source, the chance that each field the source captures is missing from a record "
        f"(independently per field); keys from {list(SOURCES)}, each in [0, 1]; unlisted sources miss nothing.",
    )
    name_typo_rate: Probability = Field(
        default=0.04, description="Chance a record's first or last name has one letter substituted or dropped."
    )
    phonetic_rate: Probability = Field(
        default=0.03, description="Chance a record's last name is spelled by sound (ph→f, c→k, y→i, …)."
    )
    nickname_rate: Probability = Field(
        default=0.15, description="Chance a record carries the nickname of a first name that has one (Robert → Bob)."
    )
    initial_rate: Probability = Field(
        default=0.03, description="Chance a record carries only the first name's initial."
    )
    phone_error_rate: Probability = Field(
        default=0.03, description="Chance a record's phone number has two adjacent digits swapped or one digit wrong."
    )
    postal_error_rate: Probability = Field(
        default=0.03, description="Chance a record's ZIP code has two adjacent digits swapped or one digit wrong."
    )
    moved_rate: Probability = Field(
        default=0.12,
        description="Share of people who moved during their history: their records from before the move carry "
        "the old address.",
    )
    shared_email_rate: Probability = Field(
        default=0.05,
        description="Chance a record carries the email of another member of the person's household (a family inbox).",
    )
    shared_phone_rate: Probability = Field(
        default=0.05,
        description="Chance a record carries the phone of another member of the person's household (a family line).",
    )
    cookie_reset_rate: Probability = Field(
        default=0.30, description="Chance a web-login record carries a fresh cookie (cleared or new browser)."
    )
    maid_reset_rate: Probability = Field(
        default=0.10, description="Chance a mobile-app record carries a fresh MAID (the ad id was reset)."
    )
    recycled_phone_rate: Probability = Field(
        default=0.02,
        description="Chance a record's phone is a number recycled from an unrelated person (who held it before).",
    )
    duplicate_rate: Probability = Field(
        default=0.05,
        description="Chance a record is held twice by its source (the copy captured later, with its own noise).",
    )
