"""Config of the campaign family: campaigns, response events, outcome metrics (attribution).

The attribution window, shared by responses and outcomes, is a run parameter: the
``generation`` resource's ``attribution_window_hours`` (:mod:`identity_graph.config.run`).
"""

from typing import ClassVar

from pydantic import Field, model_validator

from identity_graph.config.fields import Name, TableConfig, distinct_list, one_of, rates_per, weights_over
from identity_graph.model.tables import AUDIENCE_TRUTH, CAMPAIGNS, OUTCOME_METRICS, RESPONSE_EVENTS
from identity_graph.model.vocabularies import (
    ATTRIBUTION_MODELS,
    CHANNELS,
    DEFAULT_RESPONSE_RATES,
    EXPOSURE_RESPONSE_TYPES,
    GOALS,
    NON_CLICKABLE_CHANNELS,
    SEGMENTS,
)

#: Campaign keys are packed with individual keys into one BIGINT ordering key per
#: (campaign, individual) pair; this bound keeps that key below 2^53 (exact as a double).
MAX_CAMPAIGNS = 65_535
MAX_FREQUENCY_CAP = 100
DURATION_FLOOR, DURATION_CEILING = 1, 365
#: DECIMAL(8,2) CPMs must fit their column.
MAX_CPM = 999_999.99
#: A campaign spending less than a tenth of its budget is no plan at all (and budget = spend ÷ pacing stays bounded).
MIN_PACING_SHARE = 0.1
#: A campaign with no treatment group would expose nobody.
MAX_HOLDOUT_SHARE = 0.9


class CampaignsConfig(TableConfig):
    """Campaigns: how many, their flights, targeting, holdouts, channels, reach, frequency, CPM and pacing."""

    table: ClassVar[str] = CAMPAIGNS.name

    num_campaigns: int = Field(
        default=20,
        ge=1,
        le=MAX_CAMPAIGNS,
        description=f"Number of campaigns to generate (exact; in [1, {MAX_CAMPAIGNS}]), keyed 1..N.",
    )
    channel_weights: weights_over(CHANNELS) = Field(
        default={"email": 0.18, "social": 0.24, "display": 0.28, "video": 0.14, "ctv": 0.10, "audio": 0.06},
        description=(
            f"Channel mix; keys from {list(CHANNELS)}; sum to 1. A campaign's main channel is drawn by these "
            "weights and each other channel joins it with probability equal to its weight."
        ),
    )
    duration_min_days: int = Field(
        default=7,
        ge=DURATION_FLOOR,
        le=DURATION_CEILING,
        description=f"Shortest flight in days, start and end inclusive (in [{DURATION_FLOOR}, {DURATION_CEILING}]).",
    )
    duration_max_days: int = Field(
        default=90,
        ge=DURATION_FLOOR,
        le=DURATION_CEILING,
        description=f"Longest flight in days (in [{DURATION_FLOOR}, {DURATION_CEILING}], ≥ duration_min_days).",
    )
    goal_weights: weights_over(GOALS) = Field(
        default={"awareness": 0.40, "consideration": 0.35, "conversion": 0.25},
        description=f"Share of campaigns per goal; keys from {list(GOALS)}; sum to 1.",
    )
    target_reach_min: float = Field(
        default=0.10,
        ge=0.0,
        le=1.0,
        description="Smallest share of a campaign's treatment group it reaches (in [0, 1]); drawn uniformly per "
        "campaign.",
    )
    target_reach_max: float = Field(
        default=0.50,
        ge=0.0,
        le=1.0,
        description="Largest share of the treatment group a campaign reaches (in [0, 1], ≥ target_reach_min).",
    )
    frequency_mean: float = Field(
        default=3.0,
        description="Mean exposures per reached person over the flight, before the cap (in [1, frequency_cap]); "
        "1 + a geometric count, clipped at frequency_cap.",
    )
    frequency_cap: int = Field(
        default=10,
        ge=1,
        le=MAX_FREQUENCY_CAP,
        description=f"Most exposures per reached person and campaign (in [1, {MAX_FREQUENCY_CAP}]).",
    )
    # A quarter: at make run's 1,000 households the smallest campaign's eligible audience is ≈ 290 people,
    # and a lift study needs ≥ 50 in its holdout. At scale, 10–20 % is common and enough.
    holdout_share: float = Field(
        default=0.25,
        ge=0.0,
        le=MAX_HOLDOUT_SHARE,
        description=f"Share of each campaign's eligible audience assigned to its holdout group, never exposed (in "
        f"[0, {MAX_HOLDOUT_SHARE}]); the rest is its treatment group, which target_reach applies to. "
        "campaign_assignments holds each person's group.",
    )
    # Conversions do not depend on CPM: at ResponsesConfig's defaults a campaign's ROAS is about 65 / cpm,
    # so CPMs of 5–35 give 2–13× (median ≈ 3×), as targeted display and video campaigns realise.
    cpm_min: float = Field(
        default=5.0,
        gt=0.0,
        le=MAX_CPM,
        description="Lowest cost per thousand impressions (> 0); drawn uniformly per campaign.",
    )
    cpm_max: float = Field(
        default=35.0,
        gt=0.0,
        le=MAX_CPM,
        description=f"Highest cost per thousand impressions (≥ cpm_min, ≤ {MAX_CPM:,.2f}).",
    )
    # Ad servers pace a budget to spend it evenly over the flight; delivery commonly lands at 90–100 % of it.
    pacing_share: float = Field(
        default=0.9,
        ge=MIN_PACING_SHARE,
        le=1.0,
        description=f"Least share of its budget pro-rated to the window that each campaign spends there (in "
        f"[{MIN_PACING_SHARE}, 1]); "
        "each campaign's pacing is drawn uniformly in [pacing_share, 1]. Budgets are not configured: a campaign's "
        "budget is the impressions its audience, reach and frequency plan at its CPM (campaign_delivery).",
    )
    target_segments: distinct_list(Name) = Field(
        default=list(SEGMENTS),
        description="Audience segments campaigns may target (segment_primary values; non-empty, no duplicates). "
        "Each campaign targets a non-empty subset.",
    )

    @model_validator(mode="after")
    def _between_fields(self) -> "CampaignsConfig":
        mean, cap = self.frequency_mean, self.frequency_cap
        return self._require(
            self._not_above("duration_min_days", "duration_max_days"),
            self._not_above("target_reach_min", "target_reach_max"),
            self._not_above("cpm_min", "cpm_max"),
            None if 1.0 <= mean <= cap else f"frequency_mean ({mean}) must lie in [1, frequency_cap] = [1, {cap}]",
        )


class ResponsesConfig(TableConfig):
    """Response events: how often exposures draw a click, engagement or visit; how many conversions each
    campaign truly causes (its effect, diminishing returns, wear-out); what conversions are worth."""

    table: ClassVar[str] = RESPONSE_EVENTS.name

    # test_campaign_generation shows each channel's realised click-through rate inside its published range.
    response_rates: rates_per(CHANNELS, EXPOSURE_RESPONSE_TYPES, DEFAULT_RESPONSE_RATES) = Field(
        default={c: dict(r) for c, r in DEFAULT_RESPONSE_RATES.items()},
        description=(
            f"Per channel (keys from {list(CHANNELS)}), the mean probability that an addressable exposure draws "
            f"each response ({list(EXPOSURE_RESPONSE_TYPES)}; each in [0, 1], summing to at most 1; at most one "
            "per exposure) over the audience: a person's rates scale with their propensity_to_convert "
            "(propensity_effect). A channel left out keeps its defaults, a response type left out is 0. "
            f"{' and '.join(NON_CLICKABLE_CHANNELS)} impressions cannot be clicked. Conversions are not drawn per "
            "exposure: people convert at their own rate (audience_truth) and campaigns add conversions by their "
            "effect (the effect_* fields)."
        ),
    )
    zero_effect_share: float = Field(
        default=0.3,
        ge=0.0,
        le=1.0,
        description="Share of campaigns that cause no conversion at all (in [0, 1]): their true lift is 0.",
    )
    effect_median: float = Field(
        default=0.03,
        ge=0.0,
        le=1.0,
        description="Median campaign effect (in [0, 1]): the incremental conversions a treated person is expected "
        "to make when saturated with exposures on a channel of factor 1. Effects are log-normal.",
    )
    effect_sigma: float = Field(
        default=0.7, ge=0.0, le=3.0, description="Log-scale spread of campaign effects (in [0, 3])."
    )
    saturation_frequency: float = Field(
        default=3.0,
        gt=0.0,
        le=100.0,
        description="Diminishing returns (in (0, 100]): f exposures reach 1 − e^(−f / saturation_frequency) of a "
        "campaign's effect, so each further exposure adds less.",
    )
    wear_out_frequency: int = Field(
        default=6,
        ge=1,
        le=100,
        description="Wear-out (in [1, 100]): an exposure beyond this ordinal adds half what it would otherwise, "
        "and half again for each further one.",
    )
    propensity_effect: float = Field(
        default=4.0,
        ge=0.0,
        le=20.0,
        description="Strength of propensity_to_convert on response rates (in [0, 20]): rates are multiplied by "
        "exp(propensity_effect × (propensity − 0.5)); 0 makes propensity irrelevant. Deciles whose mean "
        "propensities differ by d respond at about exp(propensity_effect × d) times each other's rate.",
    )
    conversion_value_median: float = Field(
        default=60.0,
        gt=0.0,
        le=1_000_000.0,
        description="Median value of an organic conversion (> 0); values are log-normal. A conversion a campaign "
        "causes is worth its goal's factor times as much (awareness 0.6, consideration 0.9, conversion 1.4).",
    )
    conversion_value_sigma: float = Field(
        default=0.8, ge=0.0, le=5.0, description="Log-scale standard deviation of conversion values (in [0, 5])."
    )

    @model_validator(mode="after")
    def _between_fields(self) -> "ResponsesConfig":
        clicked = [c for c in NON_CLICKABLE_CHANNELS if self.response_rates.get(c, {}).get("click", 0.0) > 0]
        return self._require(
            f"response_rates: {clicked} impressions cannot be clicked; their click rate must be 0" if clicked else None
        )


class AudienceTruthConfig(TableConfig):
    """Audience truth: each person's latent persona, the daily rate at which they convert on their own, and
    who churns."""

    table: ClassVar[str] = AUDIENCE_TRUTH.name

    organic_daily_rate: float = Field(
        default=0.004,
        ge=0.0,
        le=0.1,
        description="Mean probability per day that a person converts on their own, exposed or not (in [0, 0.1]), "
        "for a persona of conversion factor 1; each person's latent rate (audience_truth) scales it by their "
        "persona's factor and a log-normal individual factor of mean 1.",
    )
    organic_rate_sigma: float = Field(
        default=0.8,
        ge=0.0,
        le=3.0,
        description="Log-scale spread of the individual factor of the organic rate (in [0, 3]); 0 gives everyone "
        "of a persona the same rate.",
    )

    churn_share: float = Field(
        default=0.10,
        ge=0.0,
        le=1.0,
        description="Share of people who churn (in [0, 1]): they stop engaging with content on a day drawn "
        "uniformly among the window's first (days − churn_lead_days) days (its first day when the window is no "
        "longer) and never engage again; audience_truth.churned_at holds it.",
    )
    churn_lead_days: int = Field(
        default=14,
        ge=1,
        le=3650,
        description="A churner's last possible engagement is more than this many days before the window's end "
        "(in [1, 3650]; ≥ audience_attributes' churn_inactive_days, so every churner who engaged at all is "
        "classed 'Churned').",
    )


class OutcomesConfig(TableConfig):
    """Outcome metrics: which attribution models credit a conversion's touches, and how."""

    table: ClassVar[str] = OUTCOME_METRICS.name

    attribution_models: distinct_list(one_of(ATTRIBUTION_MODELS), ATTRIBUTION_MODELS) = Field(
        default=list(ATTRIBUTION_MODELS),
        description=f"Attribution models to compute (non-empty, no duplicates); from {list(ATTRIBUTION_MODELS)}.",
    )
    time_decay_half_life_hours: float = Field(
        default=24.0,
        ge=0.01,
        le=8760.0,
        description="Half-life of the time_decay model in hours (in [0.01, 8760]): a touch this much earlier "
        "than another gets half its weight.",
    )
