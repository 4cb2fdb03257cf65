"""Run configuration: every knob of the generator, its default and its validation.

Plain Pydantic models, one module per table family, importing nothing from Dagster:
generation takes them as they are. The assets take them as ``dagster.Config``
(:mod:`identity_graph.assets.config` adds Dagster's base to each), so the launchpad
shows every field with its default and description. Bounds are declared on the fields,
rules between fields in one ``model_validator`` per class, rules between tables in
:func:`cross_section_problems`. Errors name the field and the bad value;
:func:`validate_run_config` applies them to a whole run's config before anything starts
(the CLI and the run-start preflight both call it). :class:`RunParameters` carries the
run-wide settings (seed, window, attribution window) to the generators.
"""

from identity_graph.config.campaigns import AudienceTruthConfig, CampaignsConfig, OutcomesConfig, ResponsesConfig
from identity_graph.config.engagement import AudienceConfig, EngagementConfig
from identity_graph.config.fields import WEIGHT_TOLERANCE, TableConfig
from identity_graph.config.identity import (
    AGE_CEILING,
    AGE_FLOOR,
    HOUSEHOLD_SIZE_CEILING,
    HOUSEHOLD_SIZE_FLOOR,
    DemographicsConfig,
    HouseholdsConfig,
    IdentifiersConfig,
)
from identity_graph.config.observations import ObservationsConfig
from identity_graph.config.run import MAX_ATTRIBUTION_WINDOW_HOURS, RunParameters
from identity_graph.config.validation import (
    ASSET_CONFIGS,
    TABLE_CONFIGS,
    InvalidRunConfig,
    cross_section_problems,
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
    "MAX_ATTRIBUTION_WINDOW_HOURS",
    "TABLE_CONFIGS",
    "WEIGHT_TOLERANCE",
    "AudienceConfig",
    "AudienceTruthConfig",
    "CampaignsConfig",
    "DemographicsConfig",
    "EngagementConfig",
    "HouseholdsConfig",
    "IdentifiersConfig",
    "InvalidRunConfig",
    "ObservationsConfig",
    "OutcomesConfig",
    "ResponsesConfig",
    "RunParameters",
    "TableConfig",
    "cross_section_problems",
    "describe_validation_error",
    "parse_date",
    "validate_run_config",
]
