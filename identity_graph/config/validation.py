"""Whole-run validation: every asset's config section checked at once, before anything runs."""

import datetime as dt
from collections.abc import Mapping
from typing import Any

import dagster as dg
from pydantic import ValidationError

from identity_graph.config.checks import WEIGHT_TOLERANCE, check_weights
from identity_graph.config.campaigns import CampaignsConfig, OutcomesConfig, ResponsesConfig
from identity_graph.config.engagement import AudienceConfig, EngagementConfig
from identity_graph.config.identity import DemographicsConfig, HouseholdsConfig, IdentifiersConfig
from identity_graph.model.vocabularies import segment_for

__all__ = ["WEIGHT_TOLERANCE", "check_weights"]


def parse_date(field: str, value: str) -> dt.date:
    """An ISO date (YYYY-MM-DD), or a ValueError naming the field."""
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError(f"{field} must be a date as YYYY-MM-DD, got {value!r}") from None


#: The config class of each asset that takes run config, keyed by asset (op) name.
ASSET_CONFIGS: dict[str, type[dg.Config]] = {
    "households": HouseholdsConfig,
    "individuals": DemographicsConfig,
    "identity_mappings": IdentifiersConfig,
    "content_engagements": EngagementConfig,
    "audience_attributes": AudienceConfig,
    "campaigns": CampaignsConfig,
    "response_events": ResponsesConfig,
    "outcome_metrics": OutcomesConfig,
}


class InvalidRunConfig(ValueError):
    """Run config that fails validation; ``problems`` lists one readable line per bad field."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid run config:\n  " + "\n  ".join(problems))


def describe_validation_error(prefix: str, error: ValidationError) -> list[str]:
    """One line per Pydantic error: ``prefix.field: message (got value)``."""
    lines = []
    for err in error.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()))
        where = f"{prefix}.{loc}" if loc else prefix
        msg = err.get("msg", "").removeprefix("Value error, ")
        got = err.get("input")
        shown = "" if err.get("type") == "value_error" or isinstance(got, Mapping) and not loc else f" (got {got!r})"
        lines.append(f"{where}: {msg}{shown}")
    return lines


def validate_run_config(run_config: Mapping[str, Any] | None) -> dict[str, dg.Config]:
    """Validate every asset's section of a Dagster run config; raise :class:`InvalidRunConfig` listing all problems.

    Sections may be absent (the defaults apply). Returns the parsed config per asset.
    """
    ops = dict((run_config or {}).get("ops") or {})
    parsed: dict[str, dg.Config] = {}
    problems: list[str] = []
    for name, section in ops.items():
        if name not in ASSET_CONFIGS:
            continue
        values = (section or {}).get("config") or {}
        try:
            parsed[name] = ASSET_CONFIGS[name](**values)
        except ValidationError as exc:
            problems.extend(describe_validation_error(name, exc))
    if not problems:
        problems.extend(cross_section_problems(parsed))
    if problems:
        raise InvalidRunConfig(problems)
    return parsed


def cross_section_problems(parsed: Mapping[str, dg.Config]) -> list[str]:
    """Problems between sections: values one table's config must agree on with another's."""
    def section(name: str) -> Any:
        return parsed.get(name) or ASSET_CONFIGS[name]()

    problems = []
    engagement, audience, campaigns = section("content_engagements"), section("audience_attributes"), section("campaigns")
    segments = {segment_for(category, audience.segment_by_category) for category in engagement.category_weights}
    unknown = [s for s in campaigns.target_segments if s not in segments]
    if unknown:
        problems.append(
            f"campaigns.target_segments: {unknown} can never match an audience segment; the segments of "
            f"content_engagements.category_weights under audience_attributes.segment_by_category are {sorted(segments)}"
        )
    responses, outcomes = section("response_events"), section("outcome_metrics")
    if responses.attribution_window_hours != outcomes.attribution_window_hours:
        problems.append(
            f"outcome_metrics.attribution_window_hours ({outcomes.attribution_window_hours}) must equal "
            f"response_events.attribution_window_hours ({responses.attribution_window_hours})"
        )
    return problems
