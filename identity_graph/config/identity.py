"""Config of the identity core: households, individuals (demographics), identity mappings."""

from typing import Any

import dagster as dg
from pydantic import Field, field_validator, model_validator

from identity_graph.config.checks import check_range, check_weights
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


class HouseholdsConfig(dg.Config):
    """Households: how many, and how income, size and housing are distributed."""

    num_households: int = Field(
        default=1_000,
        description="Number of households to generate (exact; must be > 0). Individuals follow as Σ household_size.",
    )
    income_bracket_weights: dict[str, float] = Field(
        default={"<30K": 0.20, "30-60K": 0.25, "60-100K": 0.25, "100-150K": 0.17, "150K+": 0.13},
        description=f"Share of households per income bracket; keys from {list(INCOME_BRACKETS)}; sum to 1.",
    )
    household_size_mean: float = Field(
        default=2.5, description="Mean of the normal distribution household_size is drawn from (before rounding and clipping)."
    )
    household_size_stddev: float = Field(
        default=1.2, description="Standard deviation of household_size's normal distribution (must be ≥ 0)."
    )
    household_size_min: int = Field(default=1, description="Smallest household_size; values below are clipped up (in [1, 10]).")
    household_size_max: int = Field(default=10, description="Largest household_size; values above are clipped down (in [1, 10]).")
    housing_type_weights: dict[str, float] = Field(
        default={"house": 0.62, "apartment": 0.25, "condo": 0.08, "other": 0.05},
        description=f"Share of households per housing_type; keys from {list(HOUSING_TYPES)}; sum to 1.",
    )

    @field_validator("num_households")
    @classmethod
    def _positive_count(cls, v: int) -> int:
        if v <= 0:
            raise ValueError(f"num_households must be > 0, got {v}")
        return v

    @field_validator("income_bracket_weights")
    @classmethod
    def _income_weights(cls, v: dict[str, float]) -> dict[str, float]:
        return check_weights("income_bracket_weights", v, INCOME_BRACKETS)

    @field_validator("housing_type_weights")
    @classmethod
    def _housing_weights(cls, v: dict[str, float]) -> dict[str, float]:
        return check_weights("housing_type_weights", v, HOUSING_TYPES)

    @field_validator("household_size_stddev")
    @classmethod
    def _stddev(cls, v: float) -> float:
        if v < 0:
            raise ValueError(f"household_size_stddev must be ≥ 0, got {v}")
        return v

    @field_validator("household_size_min", "household_size_max")
    @classmethod
    def _size_bounds(cls, v: int, info: Any) -> int:
        if not HOUSEHOLD_SIZE_FLOOR <= v <= HOUSEHOLD_SIZE_CEILING:
            raise ValueError(f"{info.field_name} must be in [{HOUSEHOLD_SIZE_FLOOR}, {HOUSEHOLD_SIZE_CEILING}], got {v}")
        return v

    @model_validator(mode="after")
    def _size_range(self) -> "HouseholdsConfig":
        check_range("household_size_min", self.household_size_min, "household_size_max", self.household_size_max)
        return self


class DemographicsConfig(dg.Config):
    """Individuals: age range and the mix of gender, education and employment."""

    age_min: int = Field(default=18, description="Youngest adult's age (in [18, 100]).")
    age_max: int = Field(default=90, description="Oldest adult's age (in [18, 100], ≥ age_min).")
    gender_weights: dict[str, float] = Field(
        default={"Male": 0.48, "Female": 0.48, "Non-Binary": 0.03, "Prefer not to say": 0.01},
        description=f"Share of individuals per gender; keys from {list(GENDERS)}; sum to 1.",
    )
    education_weights: dict[str, float] = Field(
        default={"High School": 0.38, "Some College": 0.22, "Bachelor": 0.25, "Master": 0.11, "Doctorate": 0.04},
        description=f"Share of individuals per education_level; keys from {list(EDUCATION_LEVELS)}; sum to 1.",
    )
    employment_weights: dict[str, float] = Field(
        default={"Employed": 0.58, "Self-Employed": 0.08, "Unemployed": 0.05, "Student": 0.09, "Retired": 0.20},
        description=(
            f"Share of individuals per employment_status; keys from {list(EMPLOYMENT_STATUSES)}; sum to 1. "
            "Age follows status: students are young (≤ 34), retirees old (≥ 60)."
        ),
    )
    shared_surname_rate: float = Field(
        default=0.85, description="Probability that a household member carries the household's surname (in [0, 1])."
    )
    income_missing_rate: float = Field(
        default=0.05,
        description="Share of earning individuals whose income_individual is NULL (not disclosed), in [0, 1]. "
        "Unemployed individuals always have NULL income.",
    )

    @field_validator("age_min", "age_max")
    @classmethod
    def _age_bounds(cls, v: int, info: Any) -> int:
        if not AGE_FLOOR <= v <= AGE_CEILING:
            raise ValueError(f"{info.field_name} must be in [{AGE_FLOOR}, {AGE_CEILING}], got {v}")
        return v

    @field_validator("gender_weights")
    @classmethod
    def _gender(cls, v: dict[str, float]) -> dict[str, float]:
        return check_weights("gender_weights", v, GENDERS)

    @field_validator("education_weights")
    @classmethod
    def _education(cls, v: dict[str, float]) -> dict[str, float]:
        return check_weights("education_weights", v, EDUCATION_LEVELS)

    @field_validator("employment_weights")
    @classmethod
    def _employment(cls, v: dict[str, float]) -> dict[str, float]:
        return check_weights("employment_weights", v, EMPLOYMENT_STATUSES)

    @field_validator("shared_surname_rate", "income_missing_rate")
    @classmethod
    def _rate(cls, v: float, info: Any) -> float:
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"{info.field_name} must be in [0, 1], got {v}")
        return v

    @model_validator(mode="after")
    def _age_range(self) -> "DemographicsConfig":
        check_range("age_min", self.age_min, "age_max", self.age_max)
        return self


class IdentifiersConfig(dg.Config):
    """Identity mappings: how many identifiers each person has, and of which types."""

    min_per_individual: int = Field(default=2, description="Fewest identifiers per individual (≥ 1).")
    max_per_individual: int = Field(default=15, description="Most identifiers per individual (≥ min_per_individual, ≤ 50).")
    mean_per_individual: float = Field(
        default=4.0,
        description="Mean identifiers per individual, within [min, max] and at least the expected number of "
        "identifier types held (Σ type_prevalence); extra identifiers are further cookies, devices, emails…",
    )
    type_prevalence: dict[str, float] = Field(
        default={
            "email_hash": 0.60,
            "cookie_id": 0.90,
            "mobile_ad_id": 0.80,
            "device_id": 0.50,
            "ctv_id": 0.40,
            "hashed_phone": 0.30,
        },
        description=f"Share of individuals holding at least one identifier of each type, in [0, 1]; keys from {list(IDENTIFIER_TYPES)}.",
    )
    active_window_days: int = Field(
        default=30, description="An identifier is active when last_seen falls within this many days of end_date (> 0)."
    )

    @field_validator("min_per_individual")
    @classmethod
    def _min(cls, v: int) -> int:
        if v < 1:
            raise ValueError(f"min_per_individual must be ≥ 1, got {v}")
        return v

    @field_validator("max_per_individual")
    @classmethod
    def _max(cls, v: int) -> int:
        if not 1 <= v <= 50:
            raise ValueError(f"max_per_individual must be in [1, 50], got {v}")
        return v

    @field_validator("active_window_days")
    @classmethod
    def _window(cls, v: int) -> int:
        if v <= 0:
            raise ValueError(f"active_window_days must be > 0, got {v}")
        return v

    @field_validator("type_prevalence")
    @classmethod
    def _prevalence(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(v) - set(IDENTIFIER_TYPES))
        if unknown:
            raise ValueError(f"type_prevalence: unknown identifier type(s) {unknown}; allowed: {list(IDENTIFIER_TYPES)}")
        bad = {k: p for k, p in v.items() if not 0.0 <= p <= 1.0}
        if bad:
            raise ValueError(f"type_prevalence: each share must be in [0, 1], got {bad}")
        if not any(p > 0 for p in v.values()):
            raise ValueError(f"type_prevalence: at least one identifier type needs a share > 0, got {v}")
        return {k: float(v[k]) for k in IDENTIFIER_TYPES if k in v}

    @model_validator(mode="after")
    def _counts(self) -> "IdentifiersConfig":
        check_range("min_per_individual", self.min_per_individual, "max_per_individual", self.max_per_individual)
        if not self.min_per_individual <= self.mean_per_individual <= self.max_per_individual:
            raise ValueError(
                f"mean_per_individual ({self.mean_per_individual}) must lie in "
                f"[min_per_individual, max_per_individual] = [{self.min_per_individual}, {self.max_per_individual}]"
            )
        expected_types = sum(self.type_prevalence.values())
        if self.mean_per_individual + 1e-9 < expected_types:
            raise ValueError(
                f"mean_per_individual ({self.mean_per_individual}) is below the expected number of identifier "
                f"types held, Σ type_prevalence = {expected_types:.3f}; raise it or lower type_prevalence"
            )
        return self
