"""Fingerprints of every table of one graph generated at a fixed seed and non-default config.

Usage: python benchmarks/fingerprint_graph.py OUT.json [--compare BEFORE.json]

Runs ``identity-graph generate`` in a fresh process into a scratch warehouse (300 households,
4 event days ending 2026-10-31, seed 7, the run config below), then records each table's row
count and an order-independent sum of row hashes. With ``--compare``, exits 1 naming every
table of the earlier run whose fingerprint differs (tables added since are listed, not
compared): a refactoring that must not change the data is compared this way against the
commit before it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUN_CONFIG = """
ops:
  households:
    config: {num_households: 300, household_size_mean: 2.8, income_bracket_weights: {"<30K": 0.1, "30-60K": 0.2, "60-100K": 0.3, "100-150K": 0.2, "150K+": 0.2}}
  individuals:
    config: {age_min: 21, shared_surname_rate: 0.7}
  identity_mappings:
    config: {mean_per_individual: 5.0, active_window_days: 20}
  content_engagements:
    config: {mean_events_per_day: 2.5}
  audience_attributes:
    config: {heavy_user_threshold: 4.0}
  campaigns:
    config: {num_campaigns: 8, cpm_min: 7.0}
  response_events:
    config: {response_rates: {display: {click: 0.08, engagement: 0.04, visit: 0.04}, ctv: {visit: 0.1}}}
  outcome_metrics:
    config: {time_decay_half_life_hours: 12}
resources:
  generation:
    config: {attribution_window_hours: 96}
"""
ARGS = ["--seed", "7", "--days", "4", "--end-date", "2026-10-31"]


def fingerprints(warehouse: str) -> dict[str, list[str]]:
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F
    from pyspark.sql.types import MapType

    from identity_graph.resources.spark import local_spark_config

    builder = SparkSession.builder
    for key, value in local_spark_config("local[2]", shuffle_partitions=2, extra={"spark.ui.enabled": "false"}).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    root = Path(warehouse) / "main" / "identity_graph"
    result = {}
    for table in sorted(p.name for p in root.iterdir() if (p / "_delta_log").is_dir()):
        df = spark.read.format("delta").load(str(root / table))
        df = df.select(
            *[
                F.array_sort(F.map_entries(F.col(f.name))).alias(f.name)
                if isinstance(f.dataType, MapType)
                else F.col(f.name)
                for f in df.schema.fields
            ]
        )
        row = df.agg(F.count("*"), F.sum(F.xxhash64(*df.columns).cast("decimal(38,0)"))).first()
        result[table] = [str(row[0]), str(row[1])]
    spark.stop()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--compare", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        config = Path(scratch) / "run_config.yaml"
        config.write_text(RUN_CONFIG)
        warehouse = os.path.join(scratch, "warehouse")
        env = {**os.environ, "DAGSTER_HOME": os.path.join(scratch, "home")}
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "identity_graph.cli",
                "generate",
                *ARGS,
                "--config",
                str(config),
                "--warehouse",
                warehouse,
            ],
            check=False,  # a failure is reported below with the output
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            print(done.stdout[-4000:], done.stderr[-4000:], file=sys.stderr)
            return 1
        prints = fingerprints(warehouse)
    args.out.write_text(json.dumps(prints, indent=1, sort_keys=True) + "\n")
    print(json.dumps(prints, indent=1, sort_keys=True))
    if args.compare:
        before = json.loads(args.compare.read_text())
        differ = sorted(t for t in before if before[t] != prints.get(t))
        added = sorted(set(prints) - set(before))
        if differ:
            print(f"DIFFERENT: {differ}", file=sys.stderr)
            return 1
        print(
            f"identical: all {len(before)} tables of {args.compare.name}" + (f"; new since: {added}" if added else "")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
