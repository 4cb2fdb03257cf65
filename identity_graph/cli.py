"""``identity-graph``: generate and check the graph through Dagster from the command line.

Runs go through Dagster's own execution API and are recorded in the instance at
``$DAGSTER_HOME`` (default ``./.dagster_home``), so ``make dev`` shows them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="identity-graph", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("generate", help="Generate the graph (or a selection of it) as Delta tables.")
    gen.add_argument("--households", type=int, help="Number of households (default: the config's, 1,000).")
    gen.add_argument("--days", type=int, help="Length of the simulated window in days (default 30).")
    gen.add_argument("--end-date", help="Last day of the simulated window, YYYY-MM-DD (default 2026-10-31).")
    gen.add_argument("--seed", type=int, help="Seed of every random draw (default 42).")
    gen.add_argument("--select", help="Dagster asset selection, e.g. 'campaigns*' (campaigns and downstream; default: every asset).")
    gen.add_argument("--config", type=Path, help="Run config YAML, the same the launchpad shows.")
    _target_arguments(gen)
    check = commands.add_parser(
        "check",
        help="Run every asset check against the stored tables, without regenerating them; exit 0 only if all ERROR checks pass.",
    )
    check.add_argument(
        "--permissions-only", action="store_true", help="Only verify the target's permissions (no table is read)."
    )
    check.add_argument(
        "--select", help="Dagster asset selection whose checks to run, e.g. 'campaigns*' (default: the checks of every asset)."
    )
    _target_arguments(check)
    return parser


def _target_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--warehouse", help="Local Delta warehouse root (default $IDENTITY_GRAPH_WAREHOUSE or ./warehouse).")
    parser.add_argument("--catalog", help="Catalog (default $IDENTITY_GRAPH_CATALOG or main).")
    parser.add_argument("--schema", help="Schema (default $IDENTITY_GRAPH_SCHEMA or identity_graph).")
    parser.add_argument("--master", help="Spark master URL (default $IDENTITY_GRAPH_SPARK_MASTER or local[*]).")
    parser.add_argument(
        "--remote", help="Spark Connect server, sc://host:port, instead of a local Spark (default $IDENTITY_GRAPH_SPARK_REMOTE)."
    )
    parser.add_argument(
        "--spark-conf", type=_key_value, action="append", default=[], metavar="KEY=VALUE", help="Extra Spark setting (repeatable)."
    )


def _definitions(args: argparse.Namespace) -> Any:
    """The Definitions for the target the environment and the command line select, or None
    (after printing why) when those settings are invalid."""
    from identity_graph.project import build_definitions
    from identity_graph.resources.targets import TargetSettings

    try:
        return build_definitions(
            TargetSettings.from_env(
                warehouse=args.warehouse,
                catalog=args.catalog,
                schema=args.schema,
                spark_master=args.master,
                spark_remote=args.remote,
                spark_conf=dict(args.spark_conf) or None,
            )
        )
    except ValueError as error:
        print(f"identity-graph: {error}", file=sys.stderr)
        return None


def _set(tree: dict[str, Any], path: Sequence[str], value: Any) -> None:
    for part in path[:-1]:
        tree = tree.setdefault(part, {}) or tree.setdefault(part, {})
        if not isinstance(tree, dict):
            raise ValueError(f"run config: {'.'.join(path)} is not a mapping")
    tree[path[-1]] = value


def build_run_config(args: argparse.Namespace) -> dict[str, Any]:
    """The run config from ``--config`` with the command-line options applied on top."""
    run_config: dict[str, Any] = {}
    if args.config:
        import yaml

        try:
            loaded = yaml.safe_load(args.config.read_text()) or {}
        except (OSError, yaml.YAMLError) as error:
            raise ValueError(f"--config {args.config}: {error}") from None
        if not isinstance(loaded, dict):
            raise ValueError(f"--config {args.config}: expected a mapping at the top level")
        run_config = loaded
    if args.households is not None:
        _set(run_config, ["ops", "households", "config", "num_households"], args.households)
    for option, field in (("seed", "seed"), ("end_date", "end_date"), ("days", "days")):
        value = getattr(args, option)
        if value is not None:
            _set(run_config, ["resources", "generation", "config", field], value)
    return run_config


def validate(run_config: Mapping[str, Any]) -> list[str]:
    """Every problem in the run config, one line each; empty when it is valid. Starts no Spark."""
    from pydantic import ValidationError

    from identity_graph.config import InvalidRunConfig, describe_validation_error, validate_run_config
    from identity_graph.resources.settings import GenerationSettings

    problems: list[str] = []
    try:
        validate_run_config(run_config)
    except InvalidRunConfig as error:
        problems.extend(error.problems)
    settings = ((run_config.get("resources") or {}).get("generation") or {}).get("config") or {}
    try:
        GenerationSettings(**settings)
    except ValidationError as error:
        problems.extend(describe_validation_error("generation", error))
    return problems


def event_days(run_config: Mapping[str, Any]):
    """The partition key range of the run's event window (``end_date`` and ``days`` of the generation settings)."""
    import datetime as dt

    from identity_graph.partitions import EVENTS_START, daily_partitions, partition_key_range
    from identity_graph.resources.settings import GenerationSettings

    settings = GenerationSettings(**(((run_config.get("resources") or {}).get("generation") or {}).get("config") or {}))
    params = settings.parameters()
    last = daily_partitions.get_last_partition_key()
    if params.window_start < dt.date.fromisoformat(EVENTS_START):
        raise ValueError(f"the event window starts {params.window_start}, before the first partition {EVENTS_START}")
    if last is None or params.end_date > dt.date.fromisoformat(last):
        raise ValueError(f"--end-date {params.end_date} is after the last complete day with a partition ({last})")
    return partition_key_range(params.end_date, params.days)


def _instance():
    from dagster import DagsterInstance

    home = Path(os.environ.setdefault("DAGSTER_HOME", str(Path(".dagster_home").resolve())))
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text("nux:\n  enabled: false\ntelemetry:\n  enabled: false\n")
    return DagsterInstance.get()


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain aligned text table; numbers right-aligned."""
    cells = [[f"{c:,}" if isinstance(c, int) else str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    numeric = [bool(rows) and all(isinstance(r[i], int) for r in rows) for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, widths, numeric)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def resolve_selection(select: str | None, asset_graph: Any) -> list[Any] | None:
    """The asset keys ``select`` (a Dagster selection string) names, sorted; None without one; an
    empty list, after printing why, when it is invalid or matches nothing."""
    if not select:
        return None
    import dagster as dg

    try:
        selection = sorted(dg.AssetSelection.from_string(select).resolve(asset_graph), key=str)
    except Exception as error:  # Dagster raises several types for a bad selection string
        print(f"identity-graph: --select {select!r}: {error}", file=sys.stderr)
        return []
    if not selection:
        print(f"identity-graph: --select {select!r} matches no asset", file=sys.stderr)
    return selection


def generate(args: argparse.Namespace) -> int:
    try:
        run_config = build_run_config(args)
    except ValueError as error:
        print(f"identity-graph: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    problems = validate(run_config)
    if problems:
        print("identity-graph: invalid configuration, nothing was generated:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT

    from identity_graph.project import GENERATE_JOB

    defs = _definitions(args)
    if defs is None:
        return EXIT_BAD_INPUT
    asset_graph = defs.resolve_asset_graph()
    selection = resolve_selection(args.select, asset_graph)
    if selection == []:
        return EXIT_BAD_INPUT

    tags = {}
    selected = set(selection) if selection is not None else set(asset_graph.get_all_asset_keys())
    # Config for assets outside the selection is valid but unused: Dagster would reject it.
    selected_names = {key.to_user_string() for key in selected}
    if run_config.get("ops"):
        run_config["ops"] = {name: section for name, section in run_config["ops"].items() if name in selected_names}
    if any(asset_graph.get(key).is_partitioned for key in selected):
        try:
            key_range = event_days(run_config)
        except ValueError as error:
            print(f"identity-graph: {error}", file=sys.stderr)
            return EXIT_BAD_INPUT
        tags = {
            "dagster/asset_partition_range_start": key_range.start,
            "dagster/asset_partition_range_end": key_range.end,
        }
        print(f"Event days {key_range.start} … {key_range.end}", flush=True)

    run_config.setdefault("loggers", {"console": {"config": {"log_level": "INFO"}}})
    started = time.monotonic()
    result = defs.resolve_job_def(GENERATE_JOB).execute_in_process(
        run_config=run_config, instance=_instance(), asset_selection=selection, raise_on_error=False, tags=tags
    )
    elapsed = time.monotonic() - started
    # A partition range yields one materialisation event per day, all with the same metadata: one row per table.
    latest = {event.materialization.asset_key: event.materialization for event in result.get_asset_materialization_events()}
    rows = []
    for materialization in latest.values():
        metadata = materialization.metadata
        rows.append(
            [
                materialization.asset_key.to_user_string(),
                int(metadata["dagster/row_count"].value) if "dagster/row_count" in metadata else "?",
                int(metadata["delta_version"].value) if "delta_version" in metadata else "?",
                metadata["uri"].value if "uri" in metadata else "",
            ]
        )
    if rows:
        print(format_table(["table", "rows", "delta version", "location"], rows))
    failed_checks = print_check_summary(result)
    return finish(result, elapsed, failed_checks)


def print_check_summary(result: Any) -> int:
    """Print one line per check of ``result``'s job; return how many ERROR checks failed or were skipped."""
    evaluations = [e.asset_check_evaluation_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    planned = result.job_def.asset_layer.asset_graph.asset_check_keys if result.job_def.asset_layer else set()
    evaluated = {e.asset_check_key for e in evaluations}
    # A failed blocking check skips the checks that read its table: they count as not passed.
    skipped = sorted((key for key in planned if key not in evaluated), key=lambda k: (k.asset_key.to_user_string(), k.name))
    if not evaluations and not skipped:
        return 0
    rows = []
    for evaluation in sorted(evaluations, key=lambda e: (e.asset_key.to_user_string(), e.check_name)):
        metadata = evaluation.metadata
        failing = metadata.get("failing_rows")
        rows.append(
            [
                evaluation.asset_key.to_user_string(),
                evaluation.check_name,
                evaluation.severity.value,
                "pass" if evaluation.passed else "FAIL",
                int(failing.value) if failing is not None else "",
            ]
        )
    rows += [[key.asset_key.to_user_string(), key.name, "", "skipped", ""] for key in skipped]
    print(format_table(["table", "check", "severity", "result", "failing rows"], rows))
    failed_errors = sum(1 for e in evaluations if not e.passed and e.severity.value == "ERROR")
    failed_warnings = sum(1 for e in evaluations if not e.passed and e.severity.value != "ERROR")
    print(
        f"\n{len(evaluations) + len(skipped)} checks: {failed_errors} ERROR failed, {failed_warnings} WARN failed, "
        f"{len(skipped)} skipped (a blocking check on a table they read failed)."
    )
    for evaluation in evaluations:
        if not evaluation.passed and evaluation.description:
            print(f"  {evaluation.asset_key.to_user_string()} {evaluation.check_name}: {evaluation.description}")
    return failed_errors + len(skipped)


def finish(result: Any, elapsed: float, failed_checks: int) -> int:
    """Report the run's outcome; the exit code is 0 only if the run succeeded and no ERROR check failed."""
    ok = result.success and failed_checks == 0
    status = "succeeded" if ok else "FAILED"
    print(f"\nRun {result.run_id} {status} in {elapsed:.1f}s (recorded in {os.environ['DAGSTER_HOME']}).")
    if not result.success:
        for event in result.all_events:
            if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
                print(f"  {event.step_key}: {_error_chain(event.step_failure_data.error)}", file=sys.stderr)
            if event.event_type_value == "RUN_FAILURE" and event.message:
                print(f"  {event.message.strip()}", file=sys.stderr)
    return EXIT_OK if ok else EXIT_FAILED


def _error_chain(error: Any) -> str:
    """An error's message with those of its causes: Dagster wraps the real cause (a Delta conflict, say)."""
    messages = []
    while error is not None and len(messages) < 5:
        messages.append(error.message.strip().splitlines()[0] if error.message.strip() else error.cls_name or "error")
        error = error.cause
    return "\n    caused by: ".join(messages)


def check(args: argparse.Namespace) -> int:
    """Run the asset checks (or only the permission checks) against what is stored."""
    from identity_graph.project import CHECK_JOB, CHECK_TARGET_JOB

    defs = _definitions(args)
    if defs is None:
        return EXIT_BAD_INPUT
    job = defs.resolve_job_def(CHECK_TARGET_JOB if args.permissions_only else CHECK_JOB)
    asset_graph = defs.resolve_asset_graph()
    selection = resolve_selection(args.select, asset_graph)
    if selection == []:
        return EXIT_BAD_INPUT
    if selection is not None:
        selected = set(selection)
        checks = {key for key in job.asset_layer.asset_graph.asset_check_keys if key.asset_key in selected}
        if not checks:
            print(f"identity-graph: --select {args.select!r} has no checks to run", file=sys.stderr)
            return EXIT_BAD_INPUT
        job = job.get_subset(asset_check_selection=checks)
    started = time.monotonic()
    result = job.execute_in_process(
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}}, instance=_instance(), raise_on_error=False
    )
    failed_checks = print_check_summary(result)
    return finish(result, time.monotonic() - started, failed_checks)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "generate":
        return generate(args)
    if args.command == "check":
        return check(args)
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
