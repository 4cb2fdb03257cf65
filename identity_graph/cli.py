"""``identity-graph``: generate and check the graph through Dagster from the command line.

Runs go through Dagster's own execution API and are recorded in the instance at
``$DAGSTER_HOME`` (default ``./.dagster_home``), so ``make dev`` shows them.

Quiet by default: the terminal gets one progress line per asset step, the tables and the
check summary. Python warnings, Dagster's event log and the Spark JVM's output (Ivy's
dependency resolution, log4j) go to ``$DAGSTER_HOME/logs/identity-graph-<time>-<pid>.log``;
``--verbose`` sends them to the terminal instead, as Dagster and Spark print them.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

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
    gen.add_argument(
        "--days", type=int, help="Event days to generate, ending on --end-date; also the window's length (default 30)."
    )
    gen.add_argument("--end-date", help="Last event day to generate, YYYY-MM-DD (default 2026-10-31).")
    gen.add_argument("--seed", type=int, help="Seed of every random draw (default 42).")
    gen.add_argument(
        "--select", help="Dagster asset selection, e.g. 'campaigns*' (campaigns and downstream; default: every asset)."
    )
    gen.add_argument("--config", type=Path, help="Run config YAML, the same the launchpad shows.")
    _target_arguments(gen)
    refresh = commands.add_parser(
        "refresh",
        help="Generate one event day and rebuild the tables derived from it, with the config the stored graph was "
        "generated with (what the daily schedule runs).",
    )
    refresh.add_argument(
        "--day", help="The event day, YYYY-MM-DD (default: the newest complete day, yesterday in UTC)."
    )
    _target_arguments(refresh)
    check = commands.add_parser(
        "check",
        help="Run every asset check against the stored tables, without regenerating them; exit 0 only if all ERROR checks pass.",
    )
    check.add_argument(
        "--permissions-only", action="store_true", help="Only verify the target's permissions (no table is read)."
    )
    check.add_argument(
        "--select",
        help="Dagster asset selection whose checks to run, e.g. 'campaigns*' (default: the checks of every asset).",
    )
    _target_arguments(check)
    return parser


def _target_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--warehouse", help="Local Delta warehouse root (default $IDENTITY_GRAPH_WAREHOUSE or ./warehouse)."
    )
    parser.add_argument("--catalog", help="Catalog (default $IDENTITY_GRAPH_CATALOG or main).")
    parser.add_argument("--schema", help="Schema (default $IDENTITY_GRAPH_SCHEMA or identity_graph).")
    parser.add_argument("--master", help="Spark master URL (default $IDENTITY_GRAPH_SPARK_MASTER or local[*]).")
    parser.add_argument(
        "--remote",
        help="Spark Connect server, sc://host:port, instead of a local Spark (default $IDENTITY_GRAPH_SPARK_REMOTE).",
    )
    parser.add_argument(
        "--spark-conf",
        type=_key_value,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="Extra Spark setting (repeatable).",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="Print Python warnings, Dagster's event log and Spark's output to the terminal "
        "(by default they go to a log file under $DAGSTER_HOME/logs).",
    )


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    """The command line's target settings: overrides of :meth:`TargetSettings.from_env` (JSON values)."""
    return {
        "warehouse": args.warehouse,
        "catalog": args.catalog,
        "schema": args.schema,
        "spark_master": args.master,
        "spark_conf": dict(args.spark_conf) or None,
    }


def _definitions(args: argparse.Namespace) -> Any:
    """The Definitions for the target the environment and the command line select, or None
    (after printing why) when those settings are invalid."""
    from identity_graph.project import build_definitions
    from identity_graph.resources.spark import REMOTE_VARIABLE
    from identity_graph.resources.targets import TargetSettings

    if args.remote:
        # Read from the environment when the session starts, as the UI's runs read it: the URL
        # (a Databricks cluster's carries a token) never enters run config or a job's pointer.
        os.environ[REMOTE_VARIABLE] = args.remote
    try:
        return build_definitions(TargetSettings.from_env(**_settings(args)))
    except ValueError as error:
        print(f"identity-graph: {error}", file=sys.stderr)
        return None


def _launched(defs: Any, args: argparse.Namespace, job_name: str, checks: Collection[Any] = ()) -> Any:
    """The reconstructable job to run when the target ships steps elsewhere (databricks: the step
    launcher rebuilds the job on the cluster, so it must be rebuildable from the package); None when
    the target runs every step in this process (locally, or over Spark Connect)."""
    from identity_graph.resources.spark import REMOTE_VARIABLE

    if defs.resources["catalog"].location.target != "databricks" or os.environ.get(REMOTE_VARIABLE):
        return None
    from identity_graph.runs import reconstructable_job

    keys = [(k.asset_key.to_user_string(), k.name) for k in checks]
    return reconstructable_job(job_name, _settings(args), keys or None)


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
    for option, field in (("seed", "seed"), ("days", "days")):
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


def event_days(end_date: str | None, run_config: Mapping[str, Any]):
    """The partition key range the run writes: the ``days`` days (of the generation settings) ending on
    ``end_date`` (default :data:`~identity_graph.partitions.DEFAULT_LAST_DAY`)."""
    import datetime as dt

    from identity_graph.config import parse_date
    from identity_graph.partitions import DEFAULT_LAST_DAY, EVENTS_START, daily_partitions, partition_key_range
    from identity_graph.resources.settings import GenerationSettings

    settings = GenerationSettings(**(((run_config.get("resources") or {}).get("generation") or {}).get("config") or {}))
    end = parse_date("--end-date", end_date) if end_date else DEFAULT_LAST_DAY
    start = end - dt.timedelta(days=settings.days - 1)
    last = daily_partitions.get_last_partition_key()
    if start < dt.date.fromisoformat(EVENTS_START):
        raise ValueError(f"the event days start {start}, before the first partition {EVENTS_START}")
    if last is None or end > dt.date.fromisoformat(last):
        raise ValueError(f"--end-date {end} is after the last complete day with a partition ({last})")
    return partition_key_range(end, settings.days)


def _dagster_home() -> Path:
    return Path(os.environ.setdefault("DAGSTER_HOME", str(Path(".dagster_home").resolve())))


def _instance():
    from dagster import DagsterInstance

    home = _dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text("nux:\n  enabled: false\ntelemetry:\n  enabled: false\n")
    return DagsterInstance.get()


class RunLog:
    """Where a quiet command sends everything that is not its own output.

    The file, ``$DAGSTER_HOME/logs/identity-graph-<time>-<pid>.log``, is created when a run
    starts (:meth:`open`); Python warnings issued before then (Dagster's Beta warnings, when
    the Definitions are built) are kept and written first. A command that ends before a run
    (bad input, an unwritable target) leaves no file.
    """

    def __init__(self) -> None:
        self.path: Path | None = None
        self.file: TextIO | None = None
        self._pending: list[str] = []

    def write(self, text: str) -> None:
        if self.file is None:
            self._pending.append(text)
        else:
            self.file.write(text)

    def open(self) -> TextIO:
        if self.file is None:
            name = f"identity-graph-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
            for directory in (_dagster_home() / "logs", Path(tempfile.gettempdir())):
                try:
                    directory.mkdir(parents=True, exist_ok=True)
                    self.file = open(directory / name, "a", buffering=1, encoding="utf-8", errors="replace")  # noqa: SIM115 - RunLog.close() closes it
                except OSError:
                    continue
                self.path = directory / name
                break
            else:
                raise OSError(f"cannot create a log file in {_dagster_home() / 'logs'} or {tempfile.gettempdir()}")
            self.file.write(f"identity-graph {' '.join(sys.argv[1:])}  ({time.strftime('%Y-%m-%d %H:%M:%S %z')})\n")
            self.file.writelines(self._pending)
            self._pending.clear()
        return self.file

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


@contextmanager
def _warnings_to(log: RunLog) -> Iterator[None]:
    """Python warnings go to ``log`` instead of stderr, for the duration."""
    previous = warnings.showwarning

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: Any = None,
        line: str | None = None,
    ) -> None:
        log.write(warnings.formatwarning(message, category, filename, lineno, line))

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = previous


def _fileno(stream: Any) -> int | None:
    try:
        return stream.fileno()
    except (AttributeError, OSError, ValueError):
        return None


@contextmanager
def _output_to(log: TextIO) -> Iterator[TextIO]:
    """Send file descriptors 1 and 2, and ``sys.stdout``/``sys.stderr``, to ``log`` for the duration;
    yield a stream to what stdout was before, for the command's own progress lines.

    The Spark JVM is a child process (spark-submit) that the first step using Spark starts in
    here: it inherits descriptors 1 and 2, so its output (Ivy's dependency resolution, log4j
    warnings) goes to ``log`` for the rest of its life, as does Dagster's console logger.
    """
    out, err = sys.stdout, sys.stderr
    out.flush()
    err.flush()
    try:
        saved = (os.dup(1), os.dup(2))
    except OSError:  # no descriptor 1 or 2 to redirect: leave the output alone
        yield out
        return
    # Under pytest's capture sys.stdout is not descriptor 1: keep writing to it.
    terminal = (
        os.fdopen(os.dup(1), "w", buffering=1, encoding=out.encoding, errors="replace") if _fileno(out) == 1 else out
    )
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    sys.stdout = sys.stderr = log
    try:
        yield terminal
    finally:
        log.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)
        sys.stdout, sys.stderr = out, err
        if terminal is not out:
            terminal.close()


class ProgressPrinter(logging.Handler):
    """Dagster's event log as progress lines: one when an asset step starts, one when it ends
    (rows written, seconds). Attached to the run through the ``progress`` logger."""

    def __init__(self, stream: TextIO, assets: Collection[str]) -> None:
        super().__init__(logging.DEBUG)
        self.stream = stream
        self.assets = set(assets)
        self.width = max((len(a) for a in self.assets), default=0)
        self.started: dict[str, float] = {}
        self.position: dict[str, int] = {}
        self.rows: dict[str, int] = {}

    def _line(self, step: str, text: str) -> None:
        total = len(self.assets)
        position = f"[{self.position[step]:>{len(str(total))}}/{total}]"
        self.stream.write(f"{position} {step.ljust(self.width)}  {text}\n")
        self.stream.flush()

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "dagster_event", None)
        step = getattr(event, "step_key", None)
        if event is None or step not in self.assets:
            return
        try:
            kind = event.event_type_value
            if kind == "STEP_START":
                self.started[step] = time.monotonic()
                self.position[step] = len(self.position) + 1
                self._line(step, "started")
            elif kind == "ASSET_MATERIALIZATION":
                count = event.event_specific_data.materialization.metadata.get("dagster/row_count")
                if count is not None:
                    self.rows[step] = int(count.value)
            elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
                seconds = time.monotonic() - self.started[step]
                if kind == "STEP_FAILURE":
                    self._line(step, f"FAILED after {seconds:.1f}s")
                elif step in self.rows:
                    self._line(step, f"{self.rows[step]:,} rows in {seconds:.1f}s")
                else:
                    self._line(step, f"done in {seconds:.1f}s")
        except Exception:  # noqa: BLE001 - a progress line must never fail the run
            self.handleError(record)


def _progress_logger(handler: ProgressPrinter) -> Any:
    import dagster as dg

    def init(_context: Any) -> logging.Logger:
        logger = logging.Logger("identity_graph.progress", logging.DEBUG)
        logger.addHandler(handler)
        return logger

    return dg.LoggerDefinition(init, description="identity-graph's progress lines.")


def _execute_job(recon: Any, run_config: dict[str, Any], progress: ProgressPrinter | None, **kwargs: Any) -> Any:
    """Run the reconstructable job through Dagster's ``execute_job`` (the job's own executor, each
    step in its own process); progress lines, if asked, come from the run's event log as it grows."""
    import uuid

    import dagster as dg

    instance = _instance()
    invocation = {"identity_graph/invocation": uuid.uuid4().hex}
    tags = {**(kwargs.get("tags") or {}), **invocation}
    if kwargs.get("partition_key"):
        tags["dagster/partition"] = kwargs["partition_key"]
    done = threading.Event()
    follower = threading.Thread(target=_follow, args=(instance, invocation, progress, done), daemon=True)
    if progress is not None:
        follower.start()
    try:
        return dg.execute_job(
            recon, instance=instance, run_config=run_config, tags=tags, asset_selection=kwargs.get("asset_selection")
        )
    finally:
        done.set()
        if follower.is_alive():
            follower.join(10)


def _follow(instance: Any, tags: dict[str, str], progress: ProgressPrinter | None, done: threading.Event) -> None:
    """Feed ``progress`` the events of the run tagged ``tags`` until ``done`` (and once more after)."""
    from types import SimpleNamespace

    from dagster import RunsFilter

    run_id, cursor = None, None
    while progress is not None:
        finished = done.wait(0.5)
        if run_id is None:
            runs = instance.get_runs(filters=RunsFilter(tags=tags), limit=1)
            run_id = runs[0].run_id if runs else None
        if run_id is not None:
            # Only the events stored since the last poll: the cursor marks where that poll ended.
            page = instance.get_records_for_run(run_id, cursor=cursor)
            for record in page.records:
                event = record.event_log_entry.dagster_event
                if event is not None:
                    progress.emit(SimpleNamespace(dagster_event=event))  # type: ignore[arg-type]
            cursor = page.cursor
        if finished:
            return


def execute(
    job: Any,
    args: argparse.Namespace,
    run_config: dict[str, Any],
    assets: Collection[str],
    recon: Any = None,
    **kwargs: Any,
) -> Any:
    """Run ``job`` and return its result: in this process, or (``recon``, its reconstructable
    form) through ``execute_job`` with each step in its own process. Verbose: Dagster's console
    logger and Spark print to the terminal. Quiet: they go to the run log, and the terminal gets
    the progress lines of the steps of ``assets``."""
    import dagster as dg

    log: RunLog | None = getattr(args, "run_log", None)
    try:
        file = log.open() if log is not None else None
    except OSError as error:
        print(f"identity-graph: {error}; Dagster and Spark print to the terminal instead", file=sys.stderr)
        file = None
    if file is None:
        if recon is not None:
            return _execute_job(recon, run_config, None, **kwargs)
        return job.execute_in_process(run_config=run_config, instance=_instance(), raise_on_error=False, **kwargs)
    print(f"Logs: {log.path}", flush=True)
    with _output_to(file) as terminal:
        progress = ProgressPrinter(terminal, assets)
        if recon is not None:
            return _execute_job(recon, run_config, progress, **kwargs)
        job = job.with_logger_defs(
            {**job.loggers, "console": dg.colored_console_logger, "progress": _progress_logger(progress)}
        )
        loggers = dict(run_config.get("loggers") or {"console": {"config": {"log_level": "INFO"}}})
        loggers["progress"] = {}
        run_config = {**run_config, "loggers": loggers}
        return job.execute_in_process(run_config=run_config, instance=_instance(), raise_on_error=False, **kwargs)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain aligned text table; numbers right-aligned."""
    cells = [[f"{c:,}" if isinstance(c, int) else str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    numeric = [bool(rows) and all(isinstance(r[i], int) for r in rows) for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, widths, numeric, strict=True)
        ).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def resolve_selection(select: str | None, asset_graph: Any) -> list[Any] | None:
    """The asset keys ``select`` (a Dagster selection string) names, sorted; None without one; an
    empty list, after printing why, when it is invalid or matches nothing."""
    if not select:
        return None
    import dagster as dg

    try:
        selection = sorted(dg.AssetSelection.from_string(select).resolve(asset_graph), key=str)
    except Exception as error:  # noqa: BLE001 - Dagster raises several types for a bad selection string
        print(f"identity-graph: --select {select!r}: {error}", file=sys.stderr)
        return []
    if not selection:
        print(f"identity-graph: --select {select!r} matches no asset", file=sys.stderr)
    return selection


def preflight(defs: Any, asset_names: Collection[str], *, writes: bool = True) -> bool:
    """Verify the target before any run (or Spark) starts, with the Definitions' own ``catalog``
    resource; when it cannot be used, print one paragraph to stderr (what is wrong, and the fix)
    and return False.

    ``writes``: the run writes the tables of ``asset_names``, so the identity must be allowed to
    write every one of them. Otherwise (a run of checks) the target must only answer: its
    permission checks report the privileges.
    """
    import dagster as dg

    from identity_graph.model import TABLE_NAMES

    tables = [table for table in TABLE_NAMES if table in asset_names] if writes else []
    if writes and not tables:
        return True
    try:
        # Built as a run builds it: EnvVar credentials resolved, dependencies set up.
        with dg.build_resources({"catalog": defs.resources["catalog"]}) as resources:
            report = resources.catalog.verify(tables)
    except Exception as error:  # noqa: BLE001 - the databricks target: no credentials, workspace unreachable
        message = getattr(error, "description", None) or str(error) or type(error).__name__
        done = "Nothing was generated." if writes else "No check was run."
        print(f"identity-graph: cannot verify the target before the run: {_one_line(message)} {done}", file=sys.stderr)
        return False
    if writes and not report.ok:
        print(refusal(report), file=sys.stderr)
        return False
    return True


def verified(writes: bool = True) -> dict[str, str]:
    """The run tags telling the run's steps that the command line has verified the target (see
    :func:`identity_graph.resources.catalog.preflight`), so that none of them asks again."""
    from identity_graph.resources.catalog import PREFLIGHT_OK, PREFLIGHT_REACHABLE, PREFLIGHT_TAG

    return {PREFLIGHT_TAG: PREFLIGHT_OK if writes else PREFLIGHT_REACHABLE}


def refusal(report: Any) -> str:
    """A :class:`PermissionReport` that is not ok, as one paragraph: where, what is missing, the fix."""
    who = f" (as {report.principal})" if report.principal else ""
    problems = [f"{o.securable_type} {o.securable} does not exist (or is not visible)" for o in report.missing_objects]
    problems += [f"missing {m.privilege} on {m.securable_type} {m.securable}" for m in report.missing]
    statements = [_one_line(s).rstrip(".;") for s in report.statements()]
    if report.target == "local":
        fix = f"To fix: {'; '.join(statements)}."
    else:
        fix = "To fix, run as a metastore admin (or the owner of each object): " + " ".join(f"{s};" for s in statements)
    notes = "".join(f" Note: {_one_line(n)}" for n in report.notes)
    return (
        f"identity-graph: the run's tables cannot be written to {report.location}{who}, so nothing was generated: "
        f"{'; '.join(problems)}. {fix}{notes}"
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())


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

    tags: dict[str, str] = {}
    selected = set(selection) if selection is not None else set(asset_graph.get_all_asset_keys())
    # Config for assets outside the selection is valid but unused: Dagster would reject it.
    selected_names = {key.to_user_string() for key in selected}
    if run_config.get("ops"):
        run_config["ops"] = {name: section for name, section in run_config["ops"].items() if name in selected_names}
    # The days the run writes are its partitions; a run of tables without days names them only when
    # asked (--end-date, --days), and otherwise takes the stored graph's window.
    if any(asset_graph.get(key).is_partitioned for key in selected) or args.end_date or args.days:
        try:
            key_range = event_days(args.end_date, run_config)
        except ValueError as error:
            print(f"identity-graph: {error}", file=sys.stderr)
            return EXIT_BAD_INPUT
        tags = {
            "dagster/asset_partition_range_start": key_range.start,
            "dagster/asset_partition_range_end": key_range.end,
        }

    # The target is verified before anything starts: an unwritable one ends here, with exit 2.
    if not preflight(defs, selected_names):
        return EXIT_BAD_INPUT
    tags.update(verified())
    if tags.get("dagster/asset_partition_range_start"):
        print(
            f"Event days {tags['dagster/asset_partition_range_start']} … {tags['dagster/asset_partition_range_end']}",
            flush=True,
        )

    run_config.setdefault("loggers", {"console": {"config": {"log_level": "INFO"}}})
    started = time.monotonic()
    result = execute(
        defs.resolve_job_def(GENERATE_JOB),
        args,
        run_config,
        selected_names,
        _launched(defs, args, GENERATE_JOB),
        asset_selection=selection,
        tags=tags,
    )
    elapsed = time.monotonic() - started
    # A partition range yields one materialisation event per day, all with the same metadata: one row per table.
    latest = {
        event.materialization.asset_key: event.materialization for event in result.get_asset_materialization_events()
    }
    rows = []
    for materialization in latest.values():
        metadata = materialization.metadata
        rows.append(
            [
                materialization.asset_key.to_user_string(),
                int(metadata["dagster/row_count"].value) if "dagster/row_count" in metadata else "?",
                int(metadata["delta_version"].value) if "delta_version" in metadata else "?",
                _location(metadata),
            ]
        )
    if rows:
        print(f"\n{format_table(['table', 'rows', 'delta version', 'location'], rows)}")
    print_resolution_scores(latest.values())
    failed_checks = print_check_summary(result)
    return finish(result, elapsed, failed_checks, getattr(args, "run_log", None))


#: The baseline resolver's scores, as its materialisation reports them.
SCORES = (
    ("pairwise", "pairwise_precision", "pairwise_recall", "pairwise_f1"),
    ("B-cubed", "bcubed_precision", "bcubed_recall", "bcubed_f1"),
)


def print_resolution_scores(materializations: Any) -> None:
    """Print the baseline resolver's precision, recall and F1 when the run materialised it."""
    from identity_graph.model.tables import RESOLUTION_BASELINE

    for materialization in materializations:
        metadata = materialization.metadata
        if materialization.asset_key.to_user_string() != RESOLUTION_BASELINE.name or "pairwise_f1" not in metadata:
            continue
        rows = [[name, *(f"{float(metadata[key].value):.3f}" for key in keys)] for name, *keys in SCORES]
        print(
            f"\nBaseline resolver against identity_truth ({int(metadata['predicted_clusters'].value):,} clusters for "
            f"{int(metadata['true_identities'].value):,} people):\n{format_table(['score', 'precision', 'recall', 'F1'], rows)}"
        )


def _location(metadata: Mapping[str, Any]) -> str:
    """Where a materialised table is: its directory (local), else its three-level name."""
    from urllib.parse import unquote, urlparse

    if "dagster/uri" in metadata:
        uri = str(metadata["dagster/uri"].value)
        return unquote(urlparse(uri).path) if uri.startswith("file:") else uri
    for key in ("uri", "dagster/table_name"):
        if key in metadata:
            return str(metadata[key].value)
    return ""


def print_check_summary(result: Any) -> int:
    """Print one line per check of ``result``'s job; return how many ERROR checks failed or were skipped."""
    evaluations = [
        e.asset_check_evaluation_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    planned = result.job_def.asset_layer.asset_graph.asset_check_keys if result.job_def.asset_layer else set()
    evaluated = {e.asset_check_key for e in evaluations}
    # A failed blocking check skips the steps (and so the checks) of the tables downstream of its table:
    # they count as not passed.
    skipped = sorted(
        (key for key in planned if key not in evaluated), key=lambda k: (k.asset_key.to_user_string(), k.name)
    )
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
    print(f"\n{format_table(['table', 'check', 'severity', 'result', 'failing rows'], rows)}")
    failed_errors = sum(1 for e in evaluations if not e.passed and e.severity.value == "ERROR")
    failed_warnings = sum(1 for e in evaluations if not e.passed and e.severity.value != "ERROR")
    print(
        f"\n{len(evaluations) + len(skipped)} checks: {failed_errors} ERROR failed, {failed_warnings} WARN failed, "
        f"{len(skipped)} skipped (a blocking check on a table upstream failed)."
    )
    for evaluation in evaluations:
        if not evaluation.passed and evaluation.description:
            print(f"  {evaluation.asset_key.to_user_string()} {evaluation.check_name}: {evaluation.description}")
    return failed_errors + len(skipped)


def finish(result: Any, elapsed: float, failed_checks: int, log: RunLog | None = None) -> int:
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
        if log is not None and log.path is not None:
            print(f"  Stack traces and Spark's output: {log.path}", file=sys.stderr)
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
    job_name = CHECK_TARGET_JOB if args.permissions_only else CHECK_JOB
    job = defs.resolve_job_def(job_name)
    asset_graph = defs.resolve_asset_graph()
    checks: set[Any] = set()
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
    # The target must answer before any check step starts: one error now, not one per check.
    if not preflight(defs, (), writes=False):
        return EXIT_BAD_INPUT
    started = time.monotonic()
    # Verbose: today's terminal output, warnings and errors only; quiet: the whole event log to the log file.
    level = "WARNING" if args.verbose else "INFO"
    run_config = {"loggers": {"console": {"config": {"log_level": level}}}}
    launched = _launched(defs, args, job_name, checks)
    result = execute(job, args, run_config, (), launched, tags=verified(writes=False))
    failed_checks = print_check_summary(result)
    return finish(result, time.monotonic() - started, failed_checks, getattr(args, "run_log", None))


def refresh(args: argparse.Namespace) -> int:
    """One event day and the tables derived from it, with the stored graph's config."""
    from identity_graph.partitions import EVENTS_START, daily_partitions
    from identity_graph.schedules import DAILY_REFRESH_JOB

    day = args.day or daily_partitions.get_last_partition_key()
    if day is None or not daily_partitions.has_partition_key(day):
        print(
            f"identity-graph: --day {day!r} is not an event day: choose a YYYY-MM-DD from {EVENTS_START} to "
            f"{daily_partitions.get_last_partition_key()}",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    defs = _definitions(args)
    if defs is None:
        return EXIT_BAD_INPUT
    job = defs.resolve_job_def(DAILY_REFRESH_JOB)
    names = {key.to_user_string() for key in job.asset_layer.executable_asset_keys}
    if not preflight(defs, names):
        return EXIT_BAD_INPUT
    print(f"Event day {day}", flush=True)
    started = time.monotonic()
    run_config = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
    recon = _launched(defs, args, DAILY_REFRESH_JOB)
    result = execute(job, args, run_config, names, recon, partition_key=day, tags=verified())
    failed_checks = print_check_summary(result)
    return finish(result, time.monotonic() - started, failed_checks, getattr(args, "run_log", None))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = {"generate": generate, "refresh": refresh, "check": check}[args.command]
    if args.verbose:
        return command(args)
    args.run_log = RunLog()
    try:
        with _warnings_to(args.run_log):
            return command(args)
    finally:
        args.run_log.close()


if __name__ == "__main__":
    sys.exit(main())
