"""Run configuration: every knob of the generator, its default and its validation.

Pydantic ``dagster.Config`` classes, one module per table family, so the Dagster
launchpad shows each field with its default and description. Validation errors
name the field and the bad value; :func:`validate_run_config` applies them to a
whole run's config before anything starts (the CLI and the run-start preflight
both call it).
"""

from identity_graph.config.campaigns import CampaignsConfig, OutcomesConfig, ResponsesConfig
from identity_graph.config.engagement import AudienceConfig, EngagementConfig
from identity_graph.config.identity import (
    AGE_CEILING,
    AGE_FLOOR,
    HOUSEHOLD_SIZE_CEILING,
    HOUSEHOLD_SIZE_FLOOR,
    DemographicsConfig,
    HouseholdsConfig,
    IdentifiersConfig,
)
from identity_graph.config.validation import (
    ASSET_CONFIGS,
    WEIGHT_TOLERANCE,
    InvalidRunConfig,
    check_weights,
    describe_validation_error,
    parse_date,
    validate_run_config,
)

__all__ = [
    "AGE_CEILING",
    "AGE_FLOOR",
    "ASSET_CONFIGS",
    "HOUSEHOLD_SIZE_CEILING",
    "HOUSEHOLD_SIZE_FLOOR",
    "WEIGHT_TOLERANCE",
    "AudienceConfig",
    "CampaignsConfig",
    "DemographicsConfig",
    "EngagementConfig",
    "HouseholdsConfig",
    "IdentifiersConfig",
    "InvalidRunConfig",
    "OutcomesConfig",
    "ResponsesConfig",
    "check_weights",
    "describe_validation_error",
    "parse_date",
    "validate_run_config",
]
