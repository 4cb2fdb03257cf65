"""Config validation: every invalid input is rejected with the field and value named — without Spark."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from identity_graph.config import (
    ASSET_CONFIGS,
    DemographicsConfig,
    HouseholdsConfig,
    IdentifiersConfig,
    InvalidRunConfig,
    ObservationsConfig,
    validate_run_config,
)
from identity_graph.config.campaigns import AudienceTruthConfig, CampaignsConfig, OutcomesConfig, ResponsesConfig
from identity_graph.config.engagement import AudienceConfig, EngagementConfig
from identity_graph.model.vocabularies import (
    ATTRIBUTION_MODELS,
    CHANNELS,
    DEFAULT_SEGMENT_BY_CATEGORY,
    GOALS,
    NON_CLICKABLE_CHANNELS,
    PUBLISHED_CTR_RANGES,
    RESPONSE_TYPES,
    SEGMENTS,
)
from identity_graph.resources.settings import GenerationSettings


def _message(cls, **values) -> str:
    with pytest.raises(ValidationError) as caught:
        cls(**values)
    return str(caught.value)


@pytest.mark.parametrize(
    ("cls", "values", "expected"),
    [
        # weights not summing to 1
        (HouseholdsConfig, {"income_bracket_weights": {"<30K": 0.5, "30-60K": 0.4}}, ["income_bracket_weights", "0.9"]),
        (DemographicsConfig, {"gender_weights": {"Male": 0.6, "Female": 0.6}}, ["gender_weights", "1.2"]),
        (DemographicsConfig, {"education_weights": {"Bachelor": 0.999}}, ["education_weights", "0.999"]),
        # unknown category
        (HouseholdsConfig, {"housing_type_weights": {"house": 0.5, "castle": 0.5}}, ["housing_type_weights", "castle"]),
        (
            DemographicsConfig,
            {"employment_weights": {"Employed": 0.5, "Astronaut": 0.5}},
            ["employment_weights", "Astronaut"],
        ),
        (IdentifiersConfig, {"type_prevalence": {"email_hash": 0.5, "fax": 0.2}}, ["type_prevalence", "fax"]),
        # negative weights
        (DemographicsConfig, {"gender_weights": {"Male": 1.2, "Female": -0.2}}, ["gender_weights", "-0.2"]),
        # min > max
        (HouseholdsConfig, {"household_size_min": 5, "household_size_max": 3}, ["household_size_min", "5", "3"]),
        (DemographicsConfig, {"age_min": 60, "age_max": 40}, ["age_min", "60", "40"]),
        (
            IdentifiersConfig,
            {"min_per_individual": 9, "max_per_individual": 4},
            ["min_per_individual", "9", "max_per_individual", "4"],
        ),
        # age outside [18, 100]
        (DemographicsConfig, {"age_min": 16}, ["age_min", "16"]),
        (DemographicsConfig, {"age_max": 101}, ["age_max", "101"]),
        # non-positive counts
        (HouseholdsConfig, {"num_households": 0}, ["num_households", "0"]),
        (HouseholdsConfig, {"num_households": -5}, ["num_households", "-5"]),
        (HouseholdsConfig, {"household_size_min": 0}, ["household_size_min", "0"]),
        (IdentifiersConfig, {"min_per_individual": 0}, ["min_per_individual", "0"]),
        (IdentifiersConfig, {"active_window_days": 0}, ["active_window_days", "0"]),
        # other out-of-range values
        (HouseholdsConfig, {"household_size_stddev": -1.0}, ["household_size_stddev", "-1.0"]),
        (DemographicsConfig, {"shared_surname_rate": 1.5}, ["shared_surname_rate", "1.5"]),
        (IdentifiersConfig, {"type_prevalence": {"email_hash": 1.4}}, ["type_prevalence", "1.4"]),
        (IdentifiersConfig, {"mean_per_individual": 20.0}, ["mean_per_individual", "20.0"]),
        (IdentifiersConfig, {"mean_per_individual": 2.5}, ["mean_per_individual", "2.5", "Σ type_prevalence"]),
        # wrong types are caught by Pydantic with the field named
        (HouseholdsConfig, {"num_households": "many"}, ["num_households", "many"]),
        # identity observations: rates in [0, 1], sources from the vocabulary, at least one record per person
        (ObservationsConfig, {"name_typo_rate": 1.5}, ["name_typo_rate", "1.5"]),
        (ObservationsConfig, {"missing_rate": {"crm": -0.1}}, ["missing_rate", "-0.1"]),
        (ObservationsConfig, {"missing_rate": {"fax": 0.1}}, ["missing_rate", "fax"]),
        (ObservationsConfig, {"source_weights": {"crm": 0.5, "web_login": 0.4}}, ["source_weights", "0.9"]),
        (ObservationsConfig, {"records_per_person_mean": 0.5}, ["records_per_person_mean", "0.5"]),
    ],
)
def test_invalid_config_is_rejected_naming_field_and_value(cls, values, expected):
    message = _message(cls, **values)
    for fragment in expected:
        assert fragment in message, f"{fragment!r} missing from: {message}"


def test_weights_within_tolerance_are_accepted():
    config = HouseholdsConfig(income_bracket_weights={"<30K": 0.5, "30-60K": 0.5 + 5e-7})
    assert set(config.income_bracket_weights) == {"<30K", "30-60K"}


def test_defaults_follow_the_data_model():
    households, people, ids = HouseholdsConfig(), DemographicsConfig(), IdentifiersConfig()
    assert (households.household_size_mean, households.household_size_stddev) == (2.5, 1.2)
    assert (households.household_size_min, households.household_size_max) == (1, 10)
    assert people.gender_weights == {"Male": 0.48, "Female": 0.48, "Non-Binary": 0.03, "Prefer not to say": 0.01}
    assert (ids.min_per_individual, ids.max_per_individual, ids.mean_per_individual) == (2, 15, 5.0)
    assert ids.type_prevalence["email_hash"] == 0.6 and ids.type_prevalence["mobile_ad_id"] == 0.8
    assert ids.type_prevalence["ctv_id"] == 0.7 and ids.type_prevalence["cookie_id"] == 0.9
    assert ids.type_prevalence["hashed_phone"] == 0.3 and ids.type_prevalence["ip_address"] == 0.9


@pytest.mark.parametrize("cls", [*ASSET_CONFIGS.values(), GenerationSettings])
def test_every_config_field_has_a_description(cls):
    missing = [name for name, field in cls.model_fields.items() if not field.description]
    assert not missing


def test_validate_run_config_reports_every_bad_field_at_once():
    run_config = {
        "ops": {
            "households": {"config": {"num_households": 0}},
            "individuals": {"config": {"age_min": 10}},
            "identity_mappings": {"config": {"type_prevalence": {"pager": 0.5}}},
        }
    }
    with pytest.raises(InvalidRunConfig) as caught:
        validate_run_config(run_config)
    text = "\n".join(caught.value.problems)
    assert "households.num_households" in text and "got 0" in text
    assert "individuals.age_min" in text and "10" in text
    assert "identity_mappings.type_prevalence" in text and "pager" in text


def test_validate_run_config_accepts_defaults_and_partial_sections():
    parsed = validate_run_config({"ops": {"households": {"config": {"num_households": 7}}}})
    assert parsed["households"].num_households == 7
    assert validate_run_config(None) == {}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"days": 0}, ["days", "0"]),
        ({"input_partitions": -1}, ["input_partitions", "-1"]),
        ({"attribution_window_hours": 200.0}, ["attribution_window_hours", "200.0", "168"]),
        ({"attribution_window_hours": 0.0}, ["attribution_window_hours", "0.0"]),
    ],
)
def test_invalid_generation_settings_are_rejected(values, expected):
    message = _message(GenerationSettings, **values)
    for fragment in expected:
        assert fragment in message, f"{fragment!r} missing from: {message}"


def test_campaign_segments_must_exist_in_the_audience():
    with pytest.raises(InvalidRunConfig) as caught:
        validate_run_config({"ops": {"campaigns": {"config": {"target_segments": ["Sports Fans", "Cat Lovers"]}}}})
    assert "campaigns.target_segments" in str(caught.value) and "Cat Lovers" in str(caught.value)
    renamed = {
        "ops": {
            "audience_attributes": {"config": {"segment_by_category": {"Sports": "Cat Lovers"}}},
            "campaigns": {"config": {"target_segments": ["Cat Lovers"]}},
        }
    }
    assert validate_run_config(renamed)["campaigns"].target_segments == ["Cat Lovers"]


def test_the_attribution_window_is_one_run_setting():
    # Responses and outcomes share the generation resource's window; their sections no longer take one.
    assert (
        GenerationSettings(attribution_window_hours=48).parameters(dt.date(2026, 10, 31)).attribution_window_hours
        == 48.0
    )
    assert GenerationSettings().parameters(dt.date(2026, 10, 31)).attribution_window_hours == 168.0
    for name in ("response_events", "outcome_metrics"):
        with pytest.raises(InvalidRunConfig) as caught:
            validate_run_config({"ops": {name: {"config": {"attribution_window_hours": 48}}}})
        assert caught.value.problems == [
            f"{name}.attribution_window_hours: Extra inputs are not permitted (got 48); "
            "set it as resources.generation.config.attribution_window_hours"
        ]


def test_errors_read_as_section_field_message_and_value():
    run_config = {
        "ops": {
            "households": {"config": {"num_households": 0, "income_bracket_weights": {"<30K": 0.5, "30-60K": 0.4}}},
            "content_engagements": {"config": {"temporal_pattern": "hourly"}},
            "outcome_metrics": {"config": {"attribution_models": ["linear", "u_shaped"]}},
            "campaigns": {"config": {"cpm_min": 40.0, "cpm_max": 5.0}},
        }
    }
    with pytest.raises(InvalidRunConfig) as caught:
        validate_run_config(run_config)
    assert caught.value.problems == [
        "households.num_households: Input should be greater than 0 (got 0)",
        "households.income_bracket_weights: weights must sum to 1 (± 1e-06), got 0.9 from {'<30K': 0.5, '30-60K': 0.4}",
        "content_engagements.temporal_pattern: Input should be 'uniform', 'daily' or 'weekly' (got 'hourly')",
        "outcome_metrics.attribution_models.1: must be one of "
        "['first_touch', 'last_touch', 'linear', 'time_decay'], got 'u_shaped'",
        "campaigns: cpm_min (40.0) must not exceed cpm_max (5.0)",
    ]


def test_the_assets_take_the_plain_config_as_dagster_config():
    """Each asset's config class is its table's plain class with Dagster's base: same fields, and the
    launchpad's description of the op config is still the class docstring."""
    import inspect

    import dagster as dg

    from identity_graph.definitions import GENERATE_JOB, defs

    for name, plain in ASSET_CONFIGS.items():
        op = defs.resolve_assets_def(name).op
        taken = inspect.signature(op.compute_fn.decorated_fn).parameters["config"].annotation
        assert issubclass(taken, plain) and issubclass(taken, dg.Config), name
        assert op.config_schema.as_field().description == plain.__doc__.strip(), name
        assert set(op.config_schema.as_field().config_type.fields) == set(plain.model_fields), name
    # A Literal is a Dagster Enum: a value outside it is refused when the run is launched.
    job = defs.resolve_job_def(GENERATE_JOB)
    bad = {"ops": {"content_engagements": {"config": {"temporal_pattern": "hourly"}}}}
    with pytest.raises(dg.DagsterInvalidConfigError, match="temporal_pattern"):
        dg.validate_run_config(job, bad)


# -- engagement family ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "values", "expected"),
    [
        (EngagementConfig, {"event_type_weights": {"view": 0.5, "click": 0.2}}, ["event_type_weights", "0.7"]),
        (EngagementConfig, {"event_type_weights": {"view": 0.5, "poke": 0.5}}, ["event_type_weights", "poke"]),
        (EngagementConfig, {"device_weights": {"mobile": 1.3, "ctv": -0.3}}, ["device_weights", "-0.3"]),
        (EngagementConfig, {"device_weights": {"mobile": 0.5, "watch": 0.5}}, ["device_weights", "watch"]),
        (EngagementConfig, {"category_weights": {"News": 0.5, "Cooking": 0.6}}, ["category_weights", "1.1"]),
        (EngagementConfig, {"category_weights": {"News": 0.5, " ": 0.5}}, ["category_weights", "' '"]),
        (EngagementConfig, {"category_weights": {}}, ["category_weights", "{}"]),
        (EngagementConfig, {"temporal_pattern": "hourly"}, ["temporal_pattern", "hourly"]),
        (EngagementConfig, {"weekend_factor": 0.0}, ["weekend_factor", "0.0"]),
        (EngagementConfig, {"mean_events_per_day": -1.0}, ["mean_events_per_day", "-1.0"]),
        (EngagementConfig, {"mean_events_per_day": float("nan")}, ["mean_events_per_day", "nan"]),
        (CampaignsConfig, {"target_reach_max": float("nan")}, ["target_reach_max", "nan"]),
        (EngagementConfig, {"power_law_exponent": 1.8}, ["power_law_exponent", "1.8"]),
        (EngagementConfig, {"duration_median_seconds": 0}, ["duration_median_seconds", "0"]),
        (EngagementConfig, {"duration_sigma": -0.5}, ["duration_sigma", "-0.5"]),
        (EngagementConfig, {"duration_max_seconds": 0}, ["duration_max_seconds", "0"]),
        (
            EngagementConfig,
            {"duration_median_seconds": 600, "duration_max_seconds": 300},
            ["duration_median_seconds", "600", "300"],
        ),
        (EngagementConfig, {"favourite_category_share": 1.5}, ["favourite_category_share", "1.5"]),
        (EngagementConfig, {"primary_device_share": -0.1}, ["primary_device_share", "-0.1"]),
        (AudienceConfig, {"secondary_affinity_threshold": 0.0}, ["secondary_affinity_threshold", "0.0"]),
        (AudienceConfig, {"heavy_user_threshold": -2.0}, ["heavy_user_threshold", "-2.0"]),
        (AudienceConfig, {"moderate_user_threshold": 0}, ["moderate_user_threshold", "0"]),
        (
            AudienceConfig,
            {"moderate_user_threshold": 5.0, "heavy_user_threshold": 2.0},
            ["moderate_user_threshold", "5.0", "2.0"],
        ),
        (AudienceConfig, {"churn_inactive_days": 0}, ["churn_inactive_days", "0"]),
        (AudienceConfig, {"segment_by_category": {"News": ""}}, ["segment_by_category", "News"]),
    ],
)
def test_invalid_engagement_config_is_rejected_naming_field_and_value(cls, values, expected):
    message = _message(cls, **values)
    for fragment in expected:
        assert fragment in message


def test_engagement_defaults_given_explicitly_are_the_same_config():
    # Weights are drawn in key order, so a validator that reordered explicit keys would change the rows.
    for cls in (EngagementConfig, AudienceConfig):
        implicit = cls().model_dump()
        explicit = cls(**implicit).model_dump()
        assert explicit == implicit
        assert [list(v) for v in explicit.values() if isinstance(v, dict)] == [
            list(v) for v in implicit.values() if isinstance(v, dict)
        ]


# -- campaign family -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "values", "expected"),
    [
        (CampaignsConfig, {"num_campaigns": 0}, ["num_campaigns", "0"]),
        (CampaignsConfig, {"num_campaigns": -3}, ["num_campaigns", "-3"]),
        (CampaignsConfig, {"num_campaigns": 70_000}, ["num_campaigns", "70000"]),
        (CampaignsConfig, {"channel_weights": {"email": 0.5, "radio": 0.5}}, ["channel_weights", "radio"]),
        (CampaignsConfig, {"channel_weights": {"email": 0.5, "social": 0.4}}, ["channel_weights", "0.9"]),
        (CampaignsConfig, {"channel_weights": {"email": 1.3, "social": -0.3}}, ["channel_weights", "-0.3"]),
        (CampaignsConfig, {"goal_weights": {"awareness": 0.5, "virality": 0.5}}, ["goal_weights", "virality"]),
        (CampaignsConfig, {"goal_weights": {"awareness": 0.7}}, ["goal_weights", "0.7"]),
        (
            CampaignsConfig,
            {"duration_min_days": 30, "duration_max_days": 10},
            ["duration_min_days", "30", "duration_max_days", "10"],
        ),
        (CampaignsConfig, {"duration_min_days": 0}, ["duration_min_days", "0"]),
        (CampaignsConfig, {"pacing_share": 0.05}, ["pacing_share", "0.05"]),
        (CampaignsConfig, {"pacing_share": 1.2}, ["pacing_share", "1.2"]),
        (CampaignsConfig, {"target_reach_min": 0.6, "target_reach_max": 0.2}, ["target_reach_min", "0.6", "0.2"]),
        (CampaignsConfig, {"target_reach_max": 1.5}, ["target_reach_max", "1.5"]),
        (CampaignsConfig, {"cpm_min": 40.0, "cpm_max": 5.0}, ["cpm_min", "40.0", "cpm_max", "5.0"]),
        (CampaignsConfig, {"cpm_min": -1.0}, ["cpm_min", "-1.0"]),
        (CampaignsConfig, {"frequency_cap": 0}, ["frequency_cap", "0"]),
        (CampaignsConfig, {"frequency_mean": 12.0}, ["frequency_mean", "12.0", "frequency_cap"]),
        (CampaignsConfig, {"frequency_mean": 0.5}, ["frequency_mean", "0.5"]),
        (CampaignsConfig, {"target_segments": []}, ["target_segments", "[]"]),
        (CampaignsConfig, {"target_segments": ["Sports Fans", "Sports Fans"]}, ["target_segments", "Sports Fans"]),
        (CampaignsConfig, {"num_campaigns": "lots"}, ["num_campaigns", "lots"]),
        (ResponsesConfig, {"response_rates": {"radio": {"click": 0.1}}}, ["response_rates", "radio"]),
        (
            ResponsesConfig,
            {"response_rates": {"display": {"purchase": 0.1}}},
            ["response_rates", "display", "purchase"],
        ),
        (ResponsesConfig, {"response_rates": {"email": {"click": 1.2}}}, ["response_rates", "email", "1.2"]),
        (ResponsesConfig, {"response_rates": {"social": {"click": -0.1}}}, ["response_rates", "social", "-0.1"]),
        (
            ResponsesConfig,
            {"response_rates": {"video": {"click": 0.6, "visit": 0.6}}},
            ["response_rates", "video", "1.2"],
        ),
        (ResponsesConfig, {"response_rates": {"ctv": {"click": 0.01}}}, ["response_rates", "ctv", "cannot be clicked"]),
        (
            ResponsesConfig,
            {"response_rates": {"audio": {"click": 0.01}}},
            ["response_rates", "audio", "cannot be clicked"],
        ),
        (ResponsesConfig, {"propensity_effect": -1.0}, ["propensity_effect", "-1.0"]),
        (ResponsesConfig, {"conversion_value_median": 0.0}, ["conversion_value_median", "0.0"]),
        (ResponsesConfig, {"conversion_value_sigma": -0.5}, ["conversion_value_sigma", "-0.5"]),
        (OutcomesConfig, {"attribution_models": ["first_touch", "u_shaped"]}, ["attribution_models", "u_shaped"]),
        (OutcomesConfig, {"attribution_models": []}, ["attribution_models", "[]"]),
        (OutcomesConfig, {"attribution_models": ["linear", "linear"]}, ["attribution_models", "linear"]),
        (OutcomesConfig, {"time_decay_half_life_hours": 0.0}, ["time_decay_half_life_hours", "0.0"]),
        (OutcomesConfig, {"time_decay_half_life_hours": 9000.0}, ["time_decay_half_life_hours", "9000.0"]),
    ],
)
def test_invalid_campaign_config_is_rejected_naming_field_and_value(cls, values, expected):
    message = _message(cls, **values)
    for fragment in expected:
        assert fragment in message, f"{fragment!r} missing from: {message}"


def test_config_defaults_are_valid_and_follow_the_data_model():
    campaigns, responses, outcomes = CampaignsConfig(), ResponsesConfig(), OutcomesConfig()
    assert (campaigns.num_campaigns, campaigns.duration_min_days, campaigns.duration_max_days) == (20, 7, 90)
    assert list(SEGMENTS) == list(DEFAULT_SEGMENT_BY_CATEGORY.values()) == campaigns.target_segments
    assert set(campaigns.channel_weights) == set(CHANNELS) and set(campaigns.goal_weights) == set(GOALS)
    assert set(responses.response_rates) == set(CHANNELS)
    assert all(set(rates) == set(RESPONSE_TYPES) - {"conversion"} for rates in responses.response_rates.values())
    assert all(responses.response_rates[c]["click"] == 0 for c in NON_CLICKABLE_CHANNELS)
    for channel, (low, high) in PUBLISHED_CTR_RANGES.items():
        assert low <= responses.response_rates[channel]["click"] <= high, channel
    # A channel left out keeps its defaults; a response type left out of a channel's rates is 0.
    only_display = ResponsesConfig(response_rates={"display": {"click": 0.002}}).response_rates
    assert only_display["display"] == {"click": 0.002} and only_display["email"] == responses.response_rates["email"]
    assert outcomes.attribution_models == list(ATTRIBUTION_MODELS)
    # Every config field carries a description for the launchpad.
    for cls in (CampaignsConfig, ResponsesConfig, OutcomesConfig, AudienceTruthConfig):
        assert all(field.description for field in cls.model_fields.values()), cls
