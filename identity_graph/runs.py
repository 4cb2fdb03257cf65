"""The command line's jobs as reconstructable jobs, for the targets that run steps out of process.

dagster-databricks' step launcher ships a step to a cluster with a pointer to the job that
Dagster rebuilds there (and Dagster's multiprocess executor rebuilds it in each step's
process): a job built in memory, as ``execute_in_process`` runs it, has none. The pointer
names :func:`command_line_job` with the command line's target settings and check selection,
all JSON, so every process rebuilds the same job from the package alone.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import dagster as dg

from identity_graph.project import build_definitions
from identity_graph.resources.targets import TargetSettings


def command_line_job(
    job_name: str, settings: Mapping[str, Any], checks: Collection[tuple[str, str]] | None = None
) -> dg.JobDefinition:
    """Job ``job_name`` of the Definitions for ``settings`` (:meth:`TargetSettings.from_env`
    overrides), restricted to the asset checks ``checks`` names as (table, check) when given."""
    job = build_definitions(TargetSettings.from_env(**settings)).resolve_job_def(job_name)
    if checks:
        job = job.get_subset(asset_check_selection={dg.AssetCheckKey(dg.AssetKey(t), c) for t, c in checks})
    return job


def reconstructable_job(
    job_name: str, settings: Mapping[str, Any], checks: Collection[tuple[str, str]] | None = None
) -> Any:
    """:func:`command_line_job` as a ``ReconstructableJob`` (``dagster.execute_job`` runs it)."""
    return dg.build_reconstructable_job(
        __name__,
        command_line_job.__name__,
        reconstructable_kwargs={
            "job_name": job_name,
            "settings": dict(settings),
            "checks": sorted([list(c) for c in checks]) if checks else None,
        },
    )
