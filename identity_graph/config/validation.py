"""Whole-run validation: every asset's config section checked at once, before anything runs."""

import datetime as dt
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import ValidationError

from identity_graph.config.campaigns import AudienceTruthConfig, CampaignsConfig, OutcomesConfig, ResponsesConfig
from identity_graph.config.engagement import AudienceConfig, EngagementConfig
from identity_graph.config.fields import TableConfig
from identity_graph.config.identity import DemographicsConfig, HouseholdsConfig, IdentifiersConfig
from identity_graph.config.observations import ObservationsConfig
from identity_graph.model.vocabularies import segment_for


def parse_date(field: str, value: str) -> dt.date:
    """An ISO date (YYYY-MM-DD), or a ValueError naming the field."""
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError(f"{field} must be a date as YYYY-MM-DD, got {value!r}") from None


#: Every table's config class, in the model's table order; each names its table (``table``).
TABLE_CONFIGS: tuple[type[TableConfig], ...] = (
    HouseholdsConfig,
    DemographicsConfig,
    IdentifiersConfig,
    EngagementConfig,
    AudienceConfig,
    CampaignsConfig,
    ResponsesConfig,
    OutcomesConfig,
    AudienceTruthConfig,
    ObservationsConfig,
)
#: The config class of each asset that takes run config, keyed by asset (op) name: its table's name.
ASSET_CONFIGS: dict[str, type[TableConfig]] = {cls.table: cls for cls in TABLE_CONFIGS}


#: Fields that have left a table's section, and where they are set now.
MOVED_FIELDS = {"attribution_window_hours": "resources.generation.config.attribution_window_hours"}


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
        shown = "" if err.get("type") == "value_error" or (isinstance(got, Mapping) and not loc) else f" (got {got!r})"
        moved = MOVED_FIELDS.get(str(err["loc"][-1])) if err.get("type") == "extra_forbidden" and loc else None
        lines.append(f"{where}: {msg}{shown}" + (f"; set it as {moved}" if moved else ""))
    return lines


def validate_run_config(run_config: Mapping[str, Any] | None) -> dict[str, TableConfig]:
    """Validate every asset's section of a Dagster run config; raise :class:`InvalidRunConfig` listing all problems.

    Sections may be absent (the defaults apply). Returns the parsed config per asset.
    """
    ops = dict((run_config or {}).get("ops") or {})
    parsed: dict[str, TableConfig] = {}
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


Section = TypeVar("Section", bound=TableConfig)


def cross_section_problems(parsed: Mapping[str, TableConfig]) -> list[str]:
    """Problems between sections: values one table's config must agree on with another's."""

    def section(cls: type[Section]) -> Section:
        found = parsed.get(cls.table)
        return found if isinstance(found, cls) else cls()

    problems = []
    engagement, audience, campaigns = section(EngagementConfig), section(AudienceConfig), section(CampaignsConfig)
    segments = {segment_for(category, audience.segment_by_category) for category in engagement.category_weights}
    unknown = [s for s in campaigns.target_segments if s not in segments]
    if unknown:
        problems.append(
            f"{campaigns.table}.target_segments: {unknown} can never match an audience segment; the segments of "
            f"{engagement.table}.category_weights under {audience.table}.segment_by_category are {sorted(segments)}"
        )
    truth = section(AudienceTruthConfig)
    if truth.churn_share > 0 and truth.churn_lead_days < audience.churn_inactive_days:
        problems.append(
            f"{truth.table}.churn_lead_days ({truth.churn_lead_days}) must be ≥ {audience.table}.churn_inactive_days "
            f"({audience.churn_inactive_days}): a churner's last engagement must be old enough to be classed 'Churned'"
        )
    return problems
