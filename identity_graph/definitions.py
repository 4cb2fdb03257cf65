"""The code location: the project's Definitions for the runtime target the environment selects
(``IDENTITY_GRAPH_TARGET`` and friends; see ``identity_graph.resources.targets``)."""

from identity_graph.project import ALL_ASSETS, CHECK_JOB, CHECK_TARGET_JOB, GENERATE_JOB, build_definitions
from identity_graph.resources.targets import TargetSettings

__all__ = ["ALL_ASSETS", "CHECK_JOB", "CHECK_TARGET_JOB", "GENERATE_JOB", "build_definitions", "defs"]

defs = build_definitions(TargetSettings.from_env())
