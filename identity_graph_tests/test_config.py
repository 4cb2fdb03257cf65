"""Config validation: every invalid input is rejected with the field and value named — without Spark."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from identity_graph.config import (
    ASSET_CONFIGS,
    DemographicsConfig,
    HouseholdsConfig,
    IdentifiersConfig,
    InvalidRunConfig,
    validate_run_config,
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
        (DemographicsConfig, {"employment_weights": {"Employed": 0.5, "Astronaut": 0.5}}, ["employment_weights", "Astronaut"]),
        (IdentifiersConfig, {"type_prevalence": {"email_hash": 0.5, "fax": 0.2}}, ["type_prevalence", "fax"]),
        # negative weights
        (DemographicsConfig, {"gender_weights": {"Male": 1.2, "Female": -0.2}}, ["gender_weights", "-0.2"]),
        # min > max
        (HouseholdsConfig, {"household_size_min": 5, "household_size_max": 3}, ["household_size_min", "5", "3"]),
        (DemographicsConfig, {"age_min": 60, "age_max": 40}, ["age_min", "60", "40"]),
        (IdentifiersConfig, {"min_per_individual": 9, "max_per_individual": 4}, ["per_individual", "9", "4"]),
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
    assert (ids.min_per_individual, ids.max_per_individual, ids.mean_per_individual) == (2, 15, 4.0)
    assert ids.type_prevalence["email_hash"] == 0.6 and ids.type_prevalence["mobile_ad_id"] == 0.8
    assert ids.type_prevalence["ctv_id"] == 0.4 and ids.type_prevalence["cookie_id"] == 0.9
    assert ids.type_prevalence["hashed_phone"] == 0.3


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
    [({"end_date": "31/10/2026"}, "end_date"), ({"days": 0}, "days"), ({"input_partitions": -1}, "input_partitions")],
)
def test_invalid_generation_settings_are_rejected(values, expected):
    assert expected in _message(GenerationSettings, **values)


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


def test_attribution_windows_of_responses_and_outcomes_must_agree():
    with pytest.raises(InvalidRunConfig) as caught:
        validate_run_config({"ops": {"outcome_metrics": {"config": {"attribution_window_hours": 48}}}})
    assert "outcome_metrics.attribution_window_hours (48" in str(caught.value)
