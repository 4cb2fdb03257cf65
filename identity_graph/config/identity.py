"""Config of the identity core: households, individuals (demographics), identity mappings."""

from typing import ClassVar

from pydantic import Field, model_validator

from identity_graph.config.fields import TableConfig, shares_over, weights_over
from identity_graph.model.tables import HOUSEHOLDS, IDENTITY_MAPPINGS, INDIVIDUALS
from identity_graph.model.vocabularies import (
    EDUCATION_LEVELS,
    EMPLOYMENT_STATUSES,
    GENDERS,
    HOUSING_TYPES,
    IDENTIFIER_TYPES,
    INCOME_BRACKETS,
)

AGE_FLOOR, AGE_CEILING = 18, 100
HOUSEHOLD_SIZE_FLOOR, HOUSEHOLD_SIZE_CEILING = 1, 10
MAX_IDENTIFIERS_PER_INDIVIDUAL = 50


class HouseholdsConfig(TableConfig):
    """Households: how many, and how income, size and housing are distributed."""

    table: ClassVar[str] = HOUSEHOLDS.name

    num_households: int = Field(
        default=1_000,
        gt=0,
        description="Number of households to generate (exact; must be > 0). Individuals follow as Σ household_size.",
    )
    income_bracket_weights: weights_over(INCOME_BRACKETS) = Field(
        default={"<30K": 0.20, "30-60K": 0.25, "60-100K": 0.25, "100-150K": 0.17, "150K+": 0.13},
        description=f"Share of households per income bracket; keys from {list(INCOME_BRACKETS)}; sum to 1.",
    )
    household_size_mean: float = Field(
        default=2.5,
        description="Mean of the normal distribution household_size is drawn from (before rounding and clipping).",
    )
    household_size_stddev: float = Field(
        default=1.2, ge=0.0, description="Standard deviation of household_size's normal distribution (must be ≥ 0)."
    )
    household_size_min: int = Field(
        default=1,
        ge=HOUSEHOLD_SIZE_FLOOR,
        le=HOUSEHOLD_SIZE_CEILING,
        description=f"Smallest household_size; values below are clipped up (in [{HOUSEHOLD_SIZE_FLOOR}, {HOUSEHOLD_SIZE_CEILING}]).",
    )
    household_size_max: int = Field(
        default=10,
        ge=HOUSEHOLD_SIZE_FLOOR,
        le=HOUSEHOLD_SIZE_CEILING,
        description=f"Largest household_size; values above are clipped down (in [{HOUSEHOLD_SIZE_FLOOR}, {HOUSEHOLD_SIZE_CEILING}]).",
    )
    housing_type_weights: weights_over(HOUSING_TYPES) = Field(
        default={"house": 0.62, "apartment": 0.25, "condo": 0.08, "other": 0.05},
        description=f"Share of households per housing_type; keys from {list(HOUSING_TYPES)}; sum to 1.",
    )

    @model_validator(mode="after")
    def _between_fields(self) -> "HouseholdsConfig":
        return self._require(self._not_above("household_size_min", "household_size_max"))


class DemographicsConfig(TableConfig):
    """Individuals: age range and the mix of gender, education and employment."""

    table: ClassVar[str] = INDIVIDUALS.name

    age_min: int = Field(
        default=18, ge=AGE_FLOOR, le=AGE_CEILING, description=f"Youngest adult's age (in [{AGE_FLOOR}, {AGE_CEILING}])."
    )
    age_max: int = Field(
        default=90,
        ge=AGE_FLOOR,
        le=AGE_CEILING,
        description=f"Oldest adult's age (in [{AGE_FLOOR}, {AGE_CEILING}], ≥ age_min).",
    )
    gender_weights: weights_over(GENDERS) = Field(
        default={"Male": 0.48, "Female": 0.48, "Non-Binary": 0.03, "Prefer not to say": 0.01},
        description=f"Share of individuals per gender; keys from {list(GENDERS)}; sum to 1.",
    )
    education_weights: weights_over(EDUCATION_LEVELS) = Field(
        default={"High School": 0.38, "Some College": 0.22, "Bachelor": 0.25, "Master": 0.11, "Doctorate": 0.04},
        description=f"Share of individuals per education_level; keys from {list(EDUCATION_LEVELS)}; sum to 1.",
    )
    employment_weights: weights_over(EMPLOYMENT_STATUSES) = Field(
        default={"Employed": 0.58, "Self-Employed": 0.08, "Unemployed": 0.05, "Student": 0.09, "Retired": 0.20},
        description=(
            f"Share of individuals per employment_status; keys from {list(EMPLOYMENT_STATUSES)}; sum to 1. "
            "Age follows status: students are young (≤ 34), retirees old (≥ 60)."
        ),
    )
    shared_surname_rate: float = Field(
        default=0.85,
        ge=0.0,
        le=1.0,
        description="Probability that a partner, child or parent of the head carries the household's surname, "
        "in [0, 1] (the head always does; other adults, siblings or flatmates, at half this rate).",
    )
    income_missing_rate: float = Field(
        default=0.05,
        ge=0.0,
        le=1.0,
        description="Share of earning individuals whose income_individual is NULL (not disclosed), in [0, 1]. "
        "Unemployed individuals always have NULL income.",
    )

    @model_validator(mode="after")
    def _between_fields(self) -> "DemographicsConfig":
        return self._require(self._not_above("age_min", "age_max"))


class IdentifiersConfig(TableConfig):
    """Identity mappings: how many identifiers each person has, and of which types."""

    table: ClassVar[str] = IDENTITY_MAPPINGS.name

    min_per_individual: int = Field(default=2, ge=1, description="Fewest identifiers per individual (≥ 1).")
    max_per_individual: int = Field(
        default=15,
        ge=1,
        le=MAX_IDENTIFIERS_PER_INDIVIDUAL,
        description=f"Most identifiers per individual (≥ min_per_individual, ≤ {MAX_IDENTIFIERS_PER_INDIVIDUAL}).",
    )
    mean_per_individual: float = Field(
        default=5.0,
        description="Mean identifiers per individual, within [min, max] and at least the expected number of "
        "identifier types held (Σ type_prevalence); extra identifiers are further cookies, devices, emails…",
    )
    type_prevalence: shares_over(IDENTIFIER_TYPES) = Field(
        default={
            "email_hash": 0.60,
            "cookie_id": 0.90,
            "mobile_ad_id": 0.80,
            "device_id": 0.50,
            "ctv_id": 0.70,
            "hashed_phone": 0.30,
            "ip_address": 0.90,
        },
        description="Share holding at least one identifier of each type, in [0, 1]: of individuals for person and "
        "device types (mobile_ad_id and cookie_id lean young, hashed_phone old), of households for household "
        f"types (ctv_id, ip_address: every member holds the household's); keys from {list(IDENTIFIER_TYPES)}.",
    )
    active_window_days: int = Field(
        default=30,
        gt=0,
        description="An identifier is active when last_seen falls within this many days of end_date (> 0).",
    )

    @model_validator(mode="after")
    def _between_fields(self) -> "IdentifiersConfig":
        low, mean, high = self.min_per_individual, self.mean_per_individual, self.max_per_individual
        expected_types = sum(self.type_prevalence.values())
        return self._require(
            self._not_above("min_per_individual", "max_per_individual"),
            None
            if low <= mean <= high
            else f"mean_per_individual ({mean}) must lie in [min_per_individual, max_per_individual] = [{low}, {high}]",
            None
            if mean + 1e-9 >= expected_types
            else f"mean_per_individual ({mean}) is below the expected number of identifier types held, "
            f"Σ type_prevalence = {expected_types:.3f}; raise it or lower type_prevalence",
        )
