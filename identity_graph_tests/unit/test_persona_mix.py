"""persona_mix: personas tilt a mix while the mix over everyone stays the configured one (no Spark)."""

import pytest

from identity_graph.config.campaigns import AudienceTruthConfig
from identity_graph.config.engagement import AudienceConfig
from identity_graph.config.validation import InvalidRunConfig, validate_run_config
from identity_graph.generation.engagement import persona_mix
from identity_graph.model.vocabularies import (
    DEFAULT_CATEGORY_WEIGHTS,
    PERSONA_CATEGORY_AFFINITY,
    PERSONA_DEVICE_AFFINITY,
    PERSONAS,
)

COUNTS = {"Young Streamer": 300, "Busy Professional": 500, "Retired Enthusiast": 200, "Casual Browser": 400, None: 10}


def overall(mix, counts):
    total = sum(counts.values())
    values = next(iter(mix.values()))
    return {v: sum(counts[p] * mix[p][v] for p in counts) / total for v in values}


def test_the_mix_over_everyone_is_the_configured_one_and_each_persona_leans_its_way():
    mix = persona_mix(COUNTS, DEFAULT_CATEGORY_WEIGHTS, PERSONA_CATEGORY_AFFINITY)
    assert set(mix) == set(COUNTS)
    for weights in mix.values():
        assert sum(weights.values()) == pytest.approx(1.0, abs=1e-12)
    for category, share in overall(mix, COUNTS).items():
        assert share == pytest.approx(DEFAULT_CATEGORY_WEIGHTS[category], abs=1e-9), category
    # Each persona's leaning survives the refit: its most favoured category is more likely for it than overall.
    assert mix["Young Streamer"]["Entertainment"] > 1.5 * DEFAULT_CATEGORY_WEIGHTS["Entertainment"]
    assert mix["Busy Professional"]["News"] > mix["Young Streamer"]["News"] * 5
    assert mix["Retired Enthusiast"]["Education"] > 2 * DEFAULT_CATEGORY_WEIGHTS["Education"]
    # The person without a persona follows the configured mix.
    assert mix[None] == pytest.approx(DEFAULT_CATEGORY_WEIGHTS)


def test_unknown_values_are_neutral_and_no_affinity_changes_nothing():
    weights = {"Cooking": 0.7, "Travel": 0.3}
    mix = persona_mix(COUNTS, weights, PERSONA_CATEGORY_AFFINITY)
    for persona in COUNTS:
        assert mix[persona] == pytest.approx(weights), persona
    devices = {"mobile": 0.5, "desktop": 0.3, "tablet": 0.1, "ctv": 0.1}
    flat = persona_mix(COUNTS, devices, {})
    assert all(flat[p] == pytest.approx(devices) for p in COUNTS)
    tilted = persona_mix(COUNTS, devices, PERSONA_DEVICE_AFFINITY)
    assert tilted["Retired Enthusiast"]["tablet"] > 2 * devices["tablet"] > tilted["Young Streamer"]["tablet"]


def test_every_persona_has_affinities_declared():
    assert set(PERSONA_CATEGORY_AFFINITY) == set(PERSONA_DEVICE_AFFINITY) == set(PERSONAS)


def test_churn_must_be_old_enough_to_be_classed_churned():
    too_recent = {
        "ops": {
            "audience_truth": {"config": {"churn_lead_days": 5}},
            "audience_attributes": {"config": {"churn_inactive_days": 7}},
        }
    }
    with pytest.raises(InvalidRunConfig) as raised:
        validate_run_config(too_recent)
    assert "audience_truth.churn_lead_days (5) must be ≥ audience_attributes.churn_inactive_days (7)" in str(
        raised.value
    )
    # No churn, no constraint; the defaults agree.
    validate_run_config({"ops": {"audience_truth": {"config": {"churn_lead_days": 5, "churn_share": 0.0}}}})
    assert AudienceTruthConfig().churn_lead_days >= AudienceConfig().churn_inactive_days
