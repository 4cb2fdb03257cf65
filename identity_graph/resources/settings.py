"""Run-wide generation settings, shared by every asset of a run."""

import dagster as dg
from pydantic import Field, field_validator

from identity_graph.config import MAX_ATTRIBUTION_WINDOW_HOURS, RunParameters, parse_date, validate_run_config
from identity_graph.partitions import event_tables_without_days


class GenerationSettings(dg.ConfigurableResource):
    """Seed, time window and attribution window of the synthetic world, shared by every asset in a run.

    At run start it also validates the whole run's asset config, so an invalid value
    anywhere fails the run before Spark starts and before any table is touched; so does
    a run that would write an event table without naming its days.
    """

    seed: int = Field(default=42, description="Seed of every random draw: same seed and config, same tables.")
    end_date: str = Field(
        default="2026-10-31",
        description="Last day (YYYY-MM-DD, UTC) of the simulated window; timestamps derive from it, not the clock.",
    )
    days: int = Field(
        default=30, gt=0, description="Length of the simulated event window in days (> 0), ending on end_date."
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

    @field_validator("end_date")
    @classmethod
    def _date(cls, v: str) -> str:
        parse_date("end_date", v)
        return v

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

    def parameters(self) -> RunParameters:
        """The settings as the :class:`RunParameters` the generators take."""
        return RunParameters(
            seed=self.seed,
            end_date=parse_date("end_date", self.end_date),
            days=self.days,
            partitions=self.input_partitions or None,
            attribution_window_hours=self.attribution_window_hours,
        )
