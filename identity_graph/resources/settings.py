"""Run-wide generation settings, shared by every asset of a run."""

import datetime as dt
from typing import Any

import dagster as dg
from pydantic import Field

from identity_graph.config import MAX_ATTRIBUTION_WINDOW_HOURS, RunParameters, validate_run_config
from identity_graph.partitions import event_tables_without_days

#: The settings a graph is generated with and recorded with (the rest only say how to compute it).
GRAPH_SETTINGS = ("seed", "days", "attribution_window_hours")


class GenerationSettings(dg.ConfigurableResource):
    """Seed, window length and attribution window of the synthetic world, shared by every asset in a run.

    Which days a run covers comes from its partitions alone (the days it writes; the window
    of the derived tables ends on the last of them). At run start it also validates the whole
    run's asset config, so an invalid value anywhere fails the run before Spark starts and
    before any table is touched; so does a run that would write an event table without
    naming its days.
    """

    seed: int = Field(default=42, description="Seed of every random draw: same seed and config, same tables.")
    days: int = Field(
        default=30,
        gt=0,
        description="Length of the window in days (> 0): the derived tables summarise the days days ending on the "
        "run's last event day, and the other tables' timestamps are placed around that window.",
    )
    input_partitions: int = Field(
        default=0,
        ge=0,
        description="Spark partitions for generated key ranges (0: Spark's default parallelism). Output does not depend on it.",
    )
    attribution_window_hours: float = Field(
        default=MAX_ATTRIBUTION_WINDOW_HOURS,
        gt=0.0,
        le=MAX_ATTRIBUTION_WINDOW_HOURS,
        description=f"Attribution window in hours (in (0, {MAX_ATTRIBUTION_WINDOW_HOURS:g}]; daily partitions look back at "
        "most 7 days), one for the run: response_events draws each response at most this long after its exposure, "
        "and outcome_metrics credits the touches at most this long before a conversion (the exposure that led "
        "to it always counts).",
    )

    rebuild: bool = Field(
        default=False,
        description="A run that rebuilds part of a stored graph (a day, campaigns*, one table) keeps the config each "
        "table was generated with, and refuses other config. True: generate with this run's config instead (then "
        "rebuild the whole graph, or it mixes two configs).",
    )

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        run = context.run
        if run is not None:
            validate_run_config(run.run_config)
            undated = event_tables_without_days(run, context.instance)
            if undated:
                raise ValueError(
                    f"{', '.join(undated)} {'is' if len(undated) == 1 else 'are'} partitioned by event day and this run "
                    "names no day. In the UI, materialise from the asset graph and choose the days (one run writes a "
                    "range), or pick a day in the launchpad's partition box; or add the run tags "
                    "dagster/asset_partition_range_start and dagster/asset_partition_range_end (YYYY-MM-DD). "
                    "identity-graph generate takes the days from --end-date and --days."
                )

    def graph_settings(self) -> dict[str, Any]:
        """The settings that make the graph what it is (recorded with each table)."""
        return {name: getattr(self, name) for name in GRAPH_SETTINGS}

    def parameters(self, last_day: dt.date, settings: dict[str, Any] | None = None) -> RunParameters:
        """The :class:`RunParameters` of a window ending on ``last_day``, with ``settings`` (default: this
        run's :meth:`graph_settings`)."""
        chosen = settings or self.graph_settings()
        return RunParameters(
            seed=int(chosen["seed"]),
            end_date=last_day,
            days=int(chosen["days"]),
            partitions=self.input_partitions or None,
            attribution_window_hours=float(chosen["attribution_window_hours"]),
        )
