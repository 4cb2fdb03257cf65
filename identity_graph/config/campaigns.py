"""Config of the campaign family: campaigns, response events, outcome metrics (attribution)."""

from typing import Any

import dagster as dg
from pydantic import Field, field_validator, model_validator

from identity_graph.config.checks import check_between, check_range, check_unique, check_weights
from identity_graph.model.vocabularies import ATTRIBUTION_MODELS, CHANNELS, GOALS, RESPONSE_TYPES, SEGMENTS


#: Campaign keys are packed with individual keys into one BIGINT ordering key per
#: (campaign, individual) pair; this bound keeps that key below 2^53 (exact as a double).
MAX_CAMPAIGNS = 65_535
MAX_FREQUENCY_CAP = 100
DURATION_FLOOR, DURATION_CEILING = 1, 365
#: Daily event partitions read at most seven days back for a response's exposure.
MAX_ATTRIBUTION_WINDOW_HOURS = 168.0
#: DECIMAL(14,2) budgets and DECIMAL(8,2) CPMs must fit their column.
MAX_BUDGET = 999_999_999_999.99
MAX_CPM = 999_999.99


def check_attribution_window(v: float) -> float:
    """The attribution window shared by responses and outcomes: (0, 168] hours."""
    return check_between("attribution_window_hours", v, 0.0, MAX_ATTRIBUTION_WINDOW_HOURS, low_open=True)


class CampaignsConfig(dg.Config):
    """Campaigns: how many, their flights, targeting, channels, budgets, reach and frequency."""

    num_campaigns: int = Field(
        default=20, description=f"Number of campaigns to generate (exact; in [1, {MAX_CAMPAIGNS}]), keyed 1..N."
    )
    channel_weights: dict[str, float] = Field(
        default={"email": 0.20, "social": 0.25, "display": 0.30, "video": 0.15, "ctv": 0.10},
        description=(
            f"Channel mix; keys from {list(CHANNELS)}; sum to 1. A campaign's main channel is drawn by these "
            "weights and each other channel joins it with probability equal to its weight."
        ),
    )
    duration_min_days: int = Field(
        default=7, description=f"Shortest flight in days, start and end inclusive (in [{DURATION_FLOOR}, {DURATION_CEILING}])."
    )
    duration_max_days: int = Field(
        default=90,
        description=f"Longest flight in days (in [{DURATION_FLOOR}, {DURATION_CEILING}], ≥ duration_min_days).",
    )
    budget_min: float = Field(default=10_000.0, description="Smallest campaign budget (> 0); budgets are log-uniform.")
    budget_max: float = Field(
        default=1_000_000.0, description=f"Largest campaign budget (≥ budget_min, ≤ {MAX_BUDGET:,.2f})."
    )
    goal_weights: dict[str, float] = Field(
        default={"awareness": 0.40, "consideration": 0.35, "conversion": 0.25},
        description=f"Share of campaigns per goal; keys from {list(GOALS)}; sum to 1.",
    )
    target_reach_min: float = Field(
        default=0.10,
        description="Smallest share of a campaign's target audience it reaches (in [0, 1]); drawn uniformly per campaign.",
    )
    target_reach_max: float = Field(
        default=0.50, description="Largest share of the target audience a campaign reaches (in [0, 1], ≥ target_reach_min)."
    )
    frequency_mean: float = Field(
        default=3.0,
        description="Mean exposures per reached person over the flight, before the cap (in [1, frequency_cap]); "
        "1 + a geometric count, clipped at frequency_cap.",
    )
    frequency_cap: int = Field(
        default=10, description=f"Most exposures per reached person and campaign (in [1, {MAX_FREQUENCY_CAP}])."
    )
    # Conversions do not depend on CPM: at ResponsesConfig's defaults a campaign's ROAS is about 65 / cpm,
    # so CPMs of 5–35 give 2–13× (median ≈ 3×), as targeted display and video campaigns realise.
    cpm_min: float = Field(default=5.0, description="Lowest cost per thousand impressions (> 0); drawn uniformly per campaign.")
    cpm_max: float = Field(default=35.0, description=f"Highest cost per thousand impressions (≥ cpm_min, ≤ {MAX_CPM:,.2f}).")
    target_segments: list[str] = Field(
        default=list(SEGMENTS),
        description="Audience segments campaigns may target (segment_primary values; non-empty, no duplicates). "
        "Each campaign targets a non-empty subset.",
    )

    @field_validator("num_campaigns")
    @classmethod
    def _count(cls, v: int) -> int:
        return int(check_between("num_campaigns", v, 1, MAX_CAMPAIGNS))

    @field_validator("channel_weights")
    @classmethod
    def _channels(cls, v: dict[str, float]) -> dict[str, float]:
        return check_weights("channel_weights", v, CHANNELS)

    @field_validator("goal_weights")
    @classmethod
    def _goals(cls, v: dict[str, float]) -> dict[str, float]:
        return check_weights("goal_weights", v, GOALS)

    @field_validator("duration_min_days", "duration_max_days")
    @classmethod
    def _duration(cls, v: int, info: Any) -> int:
        return int(check_between(info.field_name, v, DURATION_FLOOR, DURATION_CEILING))

    @field_validator("budget_min", "budget_max")
    @classmethod
    def _budget(cls, v: float, info: Any) -> float:
        return check_between(info.field_name, v, 0.0, MAX_BUDGET, low_open=True)

    @field_validator("cpm_min", "cpm_max")
    @classmethod
    def _cpm(cls, v: float, info: Any) -> float:
        return check_between(info.field_name, v, 0.0, MAX_CPM, low_open=True)

    @field_validator("target_reach_min", "target_reach_max")
    @classmethod
    def _reach(cls, v: float, info: Any) -> float:
        return check_between(info.field_name, v, 0.0, 1.0)

    @field_validator("frequency_cap")
    @classmethod
    def _cap(cls, v: int) -> int:
        return int(check_between("frequency_cap", v, 1, MAX_FREQUENCY_CAP))

    @field_validator("target_segments")
    @classmethod
    def _segments(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError(f"target_segments must name at least one segment, got {v}")
        blank = [s for s in v if not s.strip()]
        if blank:
            raise ValueError(f"target_segments: segment names must not be blank, got {v}")
        check_unique("target_segments", v)
        return v

    @model_validator(mode="after")
    def _ranges(self) -> "CampaignsConfig":
        check_range("duration_min_days", self.duration_min_days, "duration_max_days", self.duration_max_days)
        check_range("budget_min", self.budget_min, "budget_max", self.budget_max)
        check_range("target_reach_min", self.target_reach_min, "target_reach_max", self.target_reach_max)
        check_range("cpm_min", self.cpm_min, "cpm_max", self.cpm_max)
        if not 1.0 <= self.frequency_mean <= self.frequency_cap:
            raise ValueError(
                f"frequency_mean ({self.frequency_mean}) must lie in [1, frequency_cap] = [1, {self.frequency_cap}]"
            )
        return self


class ResponsesConfig(dg.Config):
    """Response events: how often exposures lead to a response, how soon, and what conversions are worth."""

    # At the defaults' propensities (mean ≈ 0.18, so rates are realised at ≈ 0.4× these) CTR ≈ 0.8 % and
    # conversions ≈ 0.08 % of impressions (≈ 10 % of clicks); test_campaign_generation pins the KPIs.
    base_rate: dict[str, float] = Field(
        default={"click": 0.020, "conversion": 0.002, "engagement": 0.012, "visit": 0.008},
        description=(
            f"Probability per exposure of each response type at propensity_to_convert 0.5; keys from "
            f"{list(RESPONSE_TYPES)}; each in [0, 1], summing to at most 1. At most one response per exposure."
        ),
    )
    propensity_effect: float = Field(
        default=4.0,
        description="Strength of propensity_to_convert on response rates (in [0, 20]): rates are multiplied by "
        "exp(propensity_effect × (propensity − 0.5)); 0 makes propensity irrelevant. Deciles whose mean "
        "propensities differ by d respond at about exp(propensity_effect × d) times each other's rate.",
    )
    attribution_window_hours: float = Field(
        default=168.0,
        description=f"Longest time from exposure to its response, in hours (in (0, {MAX_ATTRIBUTION_WINDOW_HOURS:g}]; "
        "daily partitions look back at most 7 days).",
    )
    conversion_value_median: float = Field(
        default=60.0, description="Median value of a conversion (> 0); values are log-normal."
    )
    conversion_value_sigma: float = Field(
        default=0.8, description="Log-scale standard deviation of conversion values (in [0, 5])."
    )

    @field_validator("base_rate")
    @classmethod
    def _rates(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(v) - set(RESPONSE_TYPES))
        if unknown:
            raise ValueError(f"base_rate: unknown response type(s) {unknown}; allowed: {list(RESPONSE_TYPES)}")
        bad = {k: r for k, r in v.items() if not 0.0 <= r <= 1.0}
        if bad:
            raise ValueError(f"base_rate: each rate must be in [0, 1], got {bad}")
        total = sum(v.values())
        if total > 1.0 + 1e-9:
            raise ValueError(f"base_rate: rates must sum to at most 1, got {total:.6g} from {dict(v)}")
        return {k: float(v[k]) for k in RESPONSE_TYPES if k in v}

    @field_validator("propensity_effect")
    @classmethod
    def _effect(cls, v: float) -> float:
        return check_between("propensity_effect", v, 0.0, 20.0)

    @field_validator("attribution_window_hours")
    @classmethod
    def _window(cls, v: float) -> float:
        return check_attribution_window(v)

    @field_validator("conversion_value_median")
    @classmethod
    def _median(cls, v: float) -> float:
        return check_between("conversion_value_median", v, 0.0, 1_000_000.0, low_open=True)

    @field_validator("conversion_value_sigma")
    @classmethod
    def _sigma(cls, v: float) -> float:
        return check_between("conversion_value_sigma", v, 0.0, 5.0)


class OutcomesConfig(dg.Config):
    """Outcome metrics: which attribution models credit a conversion's touches, and how."""

    attribution_models: list[str] = Field(
        default=list(ATTRIBUTION_MODELS),
        description=f"Attribution models to compute (non-empty, no duplicates); from {list(ATTRIBUTION_MODELS)}.",
    )
    time_decay_half_life_hours: float = Field(
        default=24.0,
        description="Half-life of the time_decay model in hours (in [0.01, 8760]): a touch this much earlier "
        "than another gets half its weight.",
    )
    attribution_window_hours: float = Field(
        default=168.0,
        description=f"Touches count when they precede the conversion by at most this many hours (in (0, "
        f"{MAX_ATTRIBUTION_WINDOW_HOURS:g}]); the exposure that led to the conversion always counts.",
    )

    @field_validator("attribution_models")
    @classmethod
    def _models(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError(f"attribution_models must name at least one model, got {v}; allowed: {list(ATTRIBUTION_MODELS)}")
        unknown = sorted(set(v) - set(ATTRIBUTION_MODELS))
        if unknown:
            raise ValueError(f"attribution_models: unknown model(s) {unknown}; allowed: {list(ATTRIBUTION_MODELS)}")
        check_unique("attribution_models", v)
        return [m for m in ATTRIBUTION_MODELS if m in v]

    @field_validator("time_decay_half_life_hours")
    @classmethod
    def _half_life(cls, v: float) -> float:
        return check_between("time_decay_half_life_hours", v, 0.01, 8760.0)

    @field_validator("attribution_window_hours")
    @classmethod
    def _window(cls, v: float) -> float:
        return check_attribution_window(v)
