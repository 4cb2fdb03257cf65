"""Same seed and config ⇒ identical tables, whatever the partition count or the process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from identity_graph.generation import RunParameters
from identity_graph_tests.fingerprint import differing_rows, fingerprint, identity_core

HOUSEHOLDS = 2_000


def test_tables_identical_with_2_and_7_partitions(spark, shuffle_partitions):
    shuffle_partitions(2)
    two = identity_core(spark, HOUSEHOLDS, RunParameters(seed=42, partitions=2))
    shuffle_partitions(7)
    seven = identity_core(spark, HOUSEHOLDS, RunParameters(seed=42, partitions=7))
    for name, df in seven.items():
        assert df.count() > 0
        assert differing_rows(df, two[name]) == 0, name
    for df in [*two.values(), *seven.values()]:
        df.unpersist()


def test_a_different_seed_gives_different_tables(spark):
    a = identity_core(spark, 500, RunParameters(seed=1, partitions=2))
    b = identity_core(spark, 500, RunParameters(seed=2, partitions=2))
    for name in a:
        assert fingerprint(a[name]) != fingerprint(b[name]), name


def test_tables_identical_across_processes(spark):
    here = {name: fingerprint(df) for name, df in identity_core(spark, HOUSEHOLDS, RunParameters(seed=42, partitions=3)).items()}
    env = {**os.environ, "PYTHONHASHSEED": "4242", "SPARK_LOCAL_IP": "127.0.0.1"}
    out = subprocess.run(
        [sys.executable, "-m", "identity_graph_tests.fingerprint", str(HOUSEHOLDS), "5"],
        capture_output=True, text=True, env=env, timeout=600, check=True,
    ).stdout
    line = next(l for l in out.splitlines() if l.startswith("FINGERPRINTS "))
    there = json.loads(line.removeprefix("FINGERPRINTS "))
    assert there == here
