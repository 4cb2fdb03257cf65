"""Config of the engagement family: content engagements and the audience derived from them."""

from typing import ClassVar

from pydantic import Field, model_validator

from identity_graph.config.fields import NameMap, TableConfig, weights_over
from identity_graph.model.tables import AUDIENCE_ATTRIBUTES, CONTENT_ENGAGEMENTS
from identity_graph.model.vocabularies import (
    DEFAULT_CATEGORY_WEIGHTS,
    DEFAULT_SEGMENT_BY_CATEGORY,
    DEVICE_TYPES,
    ENGAGEMENT_TYPES,
    TEMPORAL_PATTERNS,
    TemporalPattern,
)

#: A Pareto with exponent α ≤ 2 has no finite mean, so the configured mean could not hold.
MIN_POWER_LAW_EXPONENT = 2.0


class EngagementConfig(TableConfig):
    """Content engagements: how active people are, when, on what, how and on which device."""

    table: ClassVar[str] = CONTENT_ENGAGEMENTS.name

    event_type_weights: weights_over(ENGAGEMENT_TYPES) = Field(
        default={"view": 0.55, "click": 0.20, "share": 0.08, "like": 0.12, "comment": 0.05},
        description=f"Share of events per engagement_type; keys from {list(ENGAGEMENT_TYPES)}; sum to 1.",
    )
    category_weights: weights_over() = Field(
        default=dict(DEFAULT_CATEGORY_WEIGHTS),
        description="Share of events per content_category; any non-empty category names (configurable); sum to 1.",
    )
    temporal_pattern: TemporalPattern = Field(
        default="daily",
        description=(
            f"Time pattern of events, one of {list(TEMPORAL_PATTERNS)}: 'uniform' is flat over hours and days; "
            "'daily' follows an hour-of-day profile peaking 19:00–22:59; 'weekly' adds a weekend lift to 'daily'."
        ),
    )
    weekend_factor: float = Field(
        default=1.5,
        gt=0.0,
        description="With temporal_pattern 'weekly': expected events on a Saturday or Sunday relative to a weekday (> 0).",
    )
    mean_events_per_day: float = Field(
        default=1.5, gt=0.0, description="Mean events per individual per day over the population (> 0)."
    )
    power_law_exponent: float = Field(
        default=2.5,
        gt=MIN_POWER_LAW_EXPONENT,
        description=(
            f"Exponent α of the Pareto density (∝ x^-α) of each person's daily activity rate; must be > "
            f"{MIN_POWER_LAW_EXPONENT:g} so the mean exists. Smaller α: heavier tail, more activity concentrated "
            "in the most active people."
        ),
    )
    duration_median_seconds: float = Field(
        default=180.0, gt=0.0, description="Median of the log-normal duration of a 'view', in seconds (> 0)."
    )
    duration_sigma: float = Field(
        default=1.0, ge=0.0, description="σ of the log of a view's duration (≥ 0; 0 gives every view the median)."
    )
    duration_max_seconds: int = Field(
        default=4 * 3600,
        ge=1,
        description="Longest view duration in seconds; longer draws are clipped (≥ 1, ≥ the median).",
    )
    device_weights: weights_over(DEVICE_TYPES) = Field(
        default={"mobile": 0.50, "desktop": 0.22, "tablet": 0.10, "ctv": 0.18},
        description=f"Share of sessions per device_type; keys from {list(DEVICE_TYPES)}; sum to 1.",
    )
    primary_device_share: float = Field(
        default=0.7,
        ge=0.0,
        le=1.0,
        description="Probability that a session is on the person's primary device rather than drawn from the mix (in [0, 1]).",
    )
    favourite_category_share: float = Field(
        default=0.4,
        ge=0.0,
        le=1.0,
        description=(
            "Probability that an event is in the person's favourite category rather than drawn from the mix "
            "(in [0, 1]); favourites follow category_weights, so the overall mix is unchanged."
        ),
    )

    @model_validator(mode="after")
    def _between_fields(self) -> "EngagementConfig":
        return self._require(self._not_above("duration_median_seconds", "duration_max_seconds"))


class AudienceConfig(TableConfig):
    """Audience attributes: segments from category affinity, and behavioural classes from frequency."""

    table: ClassVar[str] = AUDIENCE_ATTRIBUTES.name

    segment_by_category: NameMap = Field(
        default=dict(DEFAULT_SEGMENT_BY_CATEGORY),
        description=(
            "Segment name per content category (non-empty names); a category not listed gets "
            "'<Category> Enthusiasts'. segment_primary is the segment of the highest-affinity category."
        ),
    )
    secondary_affinity_threshold: float = Field(
        default=0.2,
        gt=0.0,
        le=1.0,
        description="A category other than the top one adds its segment to segment_secondary when its affinity is ≥ this (in (0, 1]).",
    )
    heavy_user_threshold: float = Field(
        default=3.0,
        gt=0.0,
        description="'Heavy User' from this many engagements per day of the window (> 0, ≥ moderate_user_threshold).",
    )
    moderate_user_threshold: float = Field(
        default=1.0,
        gt=0.0,
        description="'Moderate User' from this many engagements per day (> 0); below it, 'Light User'.",
    )
    churn_inactive_days: int = Field(
        default=14,
        gt=0,
        description="'Churned' when the last engagement is more than this many days before the window's end (> 0).",
    )

    @model_validator(mode="after")
    def _between_fields(self) -> "AudienceConfig":
        return self._require(self._not_above("moderate_user_threshold", "heavy_user_threshold"))
