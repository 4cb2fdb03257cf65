"""The seed matters: another seed gives other tables.

Same seed ⇒ identical tables across partition counts and processes is shown for the whole
graph in test_graph.py, and per family in the generation tests."""

from __future__ import annotations

from identity_graph.config import RunParameters
from identity_graph_tests.support.fingerprint import fingerprint, identity_core


def test_a_different_seed_gives_different_tables(spark):
    a = identity_core(spark, 500, RunParameters(seed=1, partitions=2))
    b = identity_core(spark, 500, RunParameters(seed=2, partitions=2))
    for name in a:
        assert fingerprint(a[name]) != fingerprint(b[name]), name
