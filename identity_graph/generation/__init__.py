"""Pure generation: ``(spark, config, params[, upstream frames]) -> DataFrame``.

Nothing in this package imports Dagster; the assets call these functions and the
IO manager stores what they return.
"""

from identity_graph.generation.households import generate_households
from identity_graph.generation.identity_mappings import generate_identity_mappings
from identity_graph.generation.individuals import generate_individuals

__all__ = ["generate_households", "generate_identity_mappings", "generate_individuals"]
