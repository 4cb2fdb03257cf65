"""Config of the engagement family: content engagements and the audience derived from them."""

from typing import Any

import dagster as dg
from pydantic import Field, field_validator, model_validator

from identity_graph.config.checks import check_between, check_range, check_weights
from identity_graph.model.vocabularies import (
    DEFAULT_CATEGORY_WEIGHTS,
    DEFAULT_SEGMENT_BY_CATEGORY,
    DEVICE_TYPES,
    ENGAGEMENT_TYPES,
    TEMPORAL_PATTERNS,
)

#: A Pareto with exponent α ≤ 2 has no finite mean, so the configured mean could not hold.
MIN_POWER_LAW_EXPONENT = 2.0


def _check_category_weights(field: str, weights: dict[str, float]) -> dict[str, float]:
    """Weights over configurable category names: any non-empty names, each weight ≥ 0, summing to 1."""
    if not weights:
        raise ValueError(f"{field}: needs at least one category, got {weights}")
    blank = [name for name in weights if not str(name).strip()]
    if blank:
        raise ValueError(f"{field}: category names must be non-empty, got {blank}")
    return check_weights(field, weights, tuple(weights))


class EngagementConfig(dg.Config):
    """Content engagements: how active people are, when, on what, how and on which device."""

    event_type_weights: dict[str, float] = Field(
        default={"view": 0.55, "click": 0.20, "share": 0.08, "like": 0.12, "comment": 0.05},
        description=f"Share of events per engagement_type; keys from {list(ENGAGEMENT_TYPES)}; sum to 1.",
    )
    category_weights: dict[str, float] = Field(
        default=dict(DEFAULT_CATEGORY_WEIGHTS),
        description="Share of events per content_category; any non-empty category names (configurable); sum to 1.",
    )
    temporal_pattern: str = Field(
        default="daily",
        description=(
            f"Time pattern of events, one of {list(TEMPORAL_PATTERNS)}: 'uniform' is flat over hours and days; "
            "'daily' follows an hour-of-day profile peaking 19:00–22:59; 'weekly' adds a weekend lift to 'daily'."
        ),
    )
    weekend_factor: float = Field(
        default=1.5,
        description="With temporal_pattern 'weekly': expected events on a Saturday or Sunday relative to a weekday (> 0).",
    )
    mean_events_per_day: float = Field(
        default=1.5, description="Mean events per individual per day over the population (> 0)."
    )
    power_law_exponent: float = Field(
        default=2.5,
        description=(
            "Exponent α of the Pareto density (∝ x^-α) of each person's daily activity rate; must be > 2 so the "
            "mean exists. Smaller α: heavier tail, more activity concentrated in the most active people."
        ),
    )
    duration_median_seconds: float = Field(
        default=180.0, description="Median of the log-normal duration of a 'view', in seconds (> 0)."
    )
    duration_sigma: float = Field(
        default=1.0, description="σ of the log of a view's duration (≥ 0; 0 gives every view the median)."
    )
    duration_max_seconds: int = Field(
        default=4 * 3600, description="Longest view duration in seconds; longer draws are clipped (≥ 1, ≥ the median)."
    )
    device_weights: dict[str, float] = Field(
        default={"mobile": 0.50, "desktop": 0.22, "tablet": 0.10, "ctv": 0.18},
        description=f"Share of sessions per device_type; keys from {list(DEVICE_TYPES)}; sum to 1.",
    )
    primary_device_share: float = Field(
        default=0.7,
        description="Probability that a session is on the person's primary device rather than drawn from the mix (in [0, 1]).",
    )
    favourite_category_share: float = Field(
        default=0.4,
        description=(
            "Probability that an event is in the person's favourite category rather than drawn from the mix "
            "(in [0, 1]); favourites follow category_weights, so the overall mix is unchanged."
        ),
    )

    @field_validator("event_type_weights")
    @classmethod
    def _event_types(cls, v: dict[str, float]) -> dict[str, float]:
        return check_weights("event_type_weights", v, ENGAGEMENT_TYPES)

    @field_validator("category_weights")
    @classmethod
    def _categories(cls, v: dict[str, float]) -> dict[str, float]:
        return _check_category_weights("category_weights", v)

    @field_validator("device_weights")
    @classmethod
    def _devices(cls, v: dict[str, float]) -> dict[str, float]:
        return check_weights("device_weights", v, DEVICE_TYPES)

    @field_validator("temporal_pattern")
    @classmethod
    def _pattern(cls, v: str) -> str:
        if v not in TEMPORAL_PATTERNS:
            raise ValueError(f"temporal_pattern must be one of {list(TEMPORAL_PATTERNS)}, got {v!r}")
        return v

    @field_validator("weekend_factor", "mean_events_per_day", "duration_median_seconds")
    @classmethod
    def _positive(cls, v: float, info: Any) -> float:
        return check_between(info.field_name, v, 0.0, low_open=True)

    @field_validator("power_law_exponent")
    @classmethod
    def _exponent(cls, v: float) -> float:
        if not v > MIN_POWER_LAW_EXPONENT:
            raise ValueError(
                f"power_law_exponent must be > {MIN_POWER_LAW_EXPONENT:g} (the mean is infinite otherwise), got {v}"
            )
        return v

    @field_validator("duration_sigma")
    @classmethod
    def _sigma(cls, v: float) -> float:
        return check_between("duration_sigma", v, 0.0)

    @field_validator("duration_max_seconds")
    @classmethod
    def _max_duration(cls, v: int) -> int:
        return int(check_between("duration_max_seconds", v, 1))

    @field_validator("primary_device_share", "favourite_category_share")
    @classmethod
    def _share(cls, v: float, info: Any) -> float:
        return check_between(info.field_name, v, 0.0, 1.0)

    @model_validator(mode="after")
    def _duration_range(self) -> "EngagementConfig":
        check_range("duration_median_seconds", self.duration_median_seconds, "duration_max_seconds", self.duration_max_seconds)
        return self


class AudienceConfig(dg.Config):
    """Audience attributes: segments from category affinity, and behavioural classes from frequency."""

    segment_by_category: dict[str, str] = Field(
        default=dict(DEFAULT_SEGMENT_BY_CATEGORY),
        description=(
            "Segment name per content category (non-empty names); a category not listed gets "
            "'<Category> Enthusiasts'. segment_primary is the segment of the highest-affinity category."
        ),
    )
    secondary_affinity_threshold: float = Field(
        default=0.2,
        description="A category other than the top one adds its segment to segment_secondary when its affinity is ≥ this (in (0, 1]).",
    )
    heavy_user_threshold: float = Field(
        default=3.0, description="'Heavy User' from this many engagements per day of the window (> 0, ≥ moderate_user_threshold)."
    )
    moderate_user_threshold: float = Field(
        default=1.0, description="'Moderate User' from this many engagements per day (> 0); below it, 'Light User'."
    )
    churn_inactive_days: int = Field(
        default=14,
        description="'Churned' when the last engagement is more than this many days before the window's end (> 0).",
    )

    @field_validator("segment_by_category")
    @classmethod
    def _segments(cls, v: dict[str, str]) -> dict[str, str]:
        blank = {k: s for k, s in v.items() if not str(k).strip() or not str(s).strip()}
        if blank:
            raise ValueError(f"segment_by_category: category and segment names must be non-empty, got {blank}")
        return v

    @field_validator("secondary_affinity_threshold")
    @classmethod
    def _threshold(cls, v: float) -> float:
        return check_between("secondary_affinity_threshold", v, 0.0, 1.0, low_open=True)

    @field_validator("heavy_user_threshold", "moderate_user_threshold")
    @classmethod
    def _frequency(cls, v: float, info: Any) -> float:
        return check_between(info.field_name, v, 0.0, low_open=True)

    @field_validator("churn_inactive_days")
    @classmethod
    def _churn(cls, v: int) -> int:
        return int(check_between("churn_inactive_days", v, 0, low_open=True))

    @model_validator(mode="after")
    def _thresholds(self) -> "AudienceConfig":
        check_range("moderate_user_threshold", self.moderate_user_threshold, "heavy_user_threshold", self.heavy_user_threshold)
        return self
