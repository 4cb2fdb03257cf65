"""``python -m identity_graph.model``: write docs/data-model.md from the model."""

from identity_graph.model.docs import write

print(f"wrote {write()}")
