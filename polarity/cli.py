"""The `polarity` command: prepare data, run the pipeline, report status."""

import argparse
import datetime
import importlib
import json
import os
import pathlib
import sys
import warnings

from polarity.config import Config, ConfigError, default_config_yaml, load_config
from polarity.data import DataError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

# Modules that add sub-commands: each has `register(commands, add_common_flags)`,
# where every parser it adds sets `handler=fn(args, config) -> exit code`.
EXTENSIONS: tuple = (
    "pipelines.commands",
    "serving.commands",
    "polarity.operations",
    "polarity.simulate",
    "polarity.report_commands",
)


def add_overrides_flag(parser: argparse.ArgumentParser) -> None:
    """`--set KEY=VALUE` (repeatable) into `overrides`, as `load_config` takes them; the
    benchmarks take it too."""
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="Override one configuration value, e.g. --set training.epochs=3 (repeatable).",
    )


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workspace", type=pathlib.Path, help="Workspace directory (default ./workspace).")
    parser.add_argument("--config", type=pathlib.Path, help="YAML configuration file.")
    add_overrides_flag(parser)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="polarity", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    data = commands.add_parser("data", help="Write the bundled reviews as CSV spans under the workspace.")
    _common(data)
    data.add_argument("--spans", type=int, default=1, help="Number of spans to cut (default 1).")
    data.add_argument("--limit", type=int, help="Keep only this many reviews in all (small runs).")
    data.add_argument("--seed", type=int, default=0, help="Shuffle seed; same seed, same spans.")
    data.add_argument(
        "--order",
        choices=("shuffled", "by-source"),
        default="shuffled",
        help="by-source: IMDB spans first, Rotten Tomatoes later (a domain shift).",
    )
    data.add_argument("--first-span", type=int, default=1, help="Number of the first span written.")
    data.add_argument("--force", action="store_true", help="Replace spans that exist with other content.")

    schema = commands.add_parser(
        "schema", help="Infer the span schema from the newest span and write it to data.schema_file."
    )
    _common(schema)
    schema.add_argument("--span", type=int, help="Infer from this span (default: the newest).")
    schema.add_argument("--force", action="store_true", help="Replace an existing schema file.")

    run = commands.add_parser("run", help="Run the whole pipeline locally on the latest span.")
    _common(run)

    status = commands.add_parser(
        "status", help="Show the latest run, its metrics, blessing and pushed model."
    )
    _common(status)
    status.add_argument("--json", action="store_true", help="Print JSON.")

    commands.add_parser("config", help="Print the default configuration as YAML.")
    data.set_defaults(handler=cmd_data)
    schema.set_defaults(handler=cmd_schema)
    run.set_defaults(handler=cmd_run)
    status.set_defaults(handler=cmd_status)
    for module in EXTENSIONS:
        importlib.import_module(module).register(commands, _common)
    return parser


def _load(args) -> Config:
    return load_config(args.config, args.overrides, workspace=args.workspace)


def _uri_refused(what: str, *locations) -> bool:
    """Prints why `what` needs local folders when one of `locations` is a URI; True if so."""
    from serving.model_dir import is_uri

    uris = [str(location) for location in locations if is_uri(location)]
    if uris:
        print(
            f"error: {what} reads and writes local folders, not {', '.join(uris)}: run it on local "
            "folders and copy the result to the bucket (e.g. `gsutil -m cp -r`).",
            file=sys.stderr,
        )
    return bool(uris)


def cmd_data(args, config: Config) -> int:
    from polarity import data, schema  # noqa: F811 (module, not the DataError import)

    if _uri_refused("polarity data", config.data_root, config.golden_root):
        return EXIT_USAGE

    summaries = data.prepare_spans(
        config.data_root,
        config.golden_root,
        spans=args.spans,
        seed=args.seed,
        limit=args.limit,
        order=args.order,
        first_span=args.first_span,
        force=args.force,
    )
    for item in summaries:
        print(f"span-{item['span']}: {item['rows']} reviews ({item['state']}) in {config.data_root}")
    state = schema.install_bundled_schema(str(config.schema_file))
    print(f"schema: the bundled reviews' schema ({state}) at {config.schema_file}")
    return EXIT_OK


def cmd_schema(args, config: Config) -> int:
    from polarity import data, schema, spans

    if _uri_refused("polarity schema", config.data_root):
        return EXIT_USAGE

    span = (
        args.span if args.span is not None else data.latest_span(config.data_root, config.data.span_pattern)
    )
    if span is None:
        print(f"error: no span matching {config.data.span_pattern!r} in {config.data_root}", file=sys.stderr)
        return EXIT_USAGE
    span_files = spans.span_glob(config.data_root, config.data.span_pattern, span)
    if span_files is None:
        print(
            f"error: no file of span {span} matches {config.data.span_pattern!r} in {config.data_root}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    target = str(config.schema_file)
    if schema.exists(target) and not args.force:
        print(
            f"error: {target} exists; pass --force to replace it with one inferred from span {span}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        inferred, decisions = schema.infer_schema(span_files, config.data.contract())
    except schema.SchemaError as error:
        print(f"error: span {span}: {error}", file=sys.stderr)
        return EXIT_USAGE
    schema.write_schema(inferred, target, f"span {span} ({span_files})")
    print(f"Schema inferred from span {span} and written to {target}:")
    for decision in decisions:
        print(f"  - {decision}")
    print(
        "Edit it to tighten a rule (e.g. a slice column's allowed values); `polarity run` uses it as it is."
    )
    return EXIT_OK


def _root_cause(error: BaseException) -> BaseException:
    from components.data_gate import DataValidationError

    seen = error
    while seen is not None:
        if isinstance(seen, DataValidationError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return error


def print_summary(summary: dict, out=None) -> None:
    """The human form of a run summary, on `out` (default: sys.stdout when called)."""
    from polarity.render import render_summary

    (out or sys.stdout).write(render_summary(summary))


def cmd_run(args, config: Config) -> int:
    from polarity import lock

    try:
        with lock.workspace_lock(config.workspace):
            return _run_locked(config)
    except lock.WorkspaceBusyError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED


def _run_locked(config: Config) -> int:
    from pipelines.local_runner import run_local
    from polarity import csv_checks, metadata, progress, recovery, report, schema
    from serving.model_dir import is_uri

    span = "newest"
    if is_uri(config.data_root) or is_uri(config.golden_root):
        print(f"Note: the CSV preflight reads local files only; {config.data_root} is checked by validation.")
    else:
        check = csv_checks.check_run_inputs(
            config.data_root, config.data.span_pattern, config.golden_root, config.data.contract()
        )
        if not check.ok:
            print(check.describe(), file=sys.stderr)
            return EXIT_USAGE if check.span is None else EXIT_FAILED
        span = check.span
    if not schema.exists(str(config.schema_file)):
        print(
            f"error: no schema at {config.schema_file}: the data has no schema yet. Make one from "
            f"span {span} with `polarity schema` (same --config/--workspace/--set flags), check what "
            "it printed, then run again.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    log_path = config.workspace.absolute() / "logs" / f"run-{stamp}.log"
    for line in recovery.close_interrupted_runs(config.metadata_path, config.pipeline_root):
        print(line)
    print(f"Running pipeline '{config.pipeline_name}' on {config.data_root} (log: {log_path})")
    failure: BaseException | None = None
    with progress.capture_run_logs(log_path):
        try:
            run_local(config)
        except Exception as error:  # reported below with the run summary
            failure = _root_cause(error)
    summary = None
    if config.metadata_path.is_file():  # a run that failed before its first component has none
        summary = report.run_summary(
            metadata.open_store(config.metadata_path),
            config.pipeline_name,
            serving_dir=config.serving_dir,
            classes=config.data.classes,
        )
    if summary:
        print_summary(summary)
    from polarity import report_commands

    with progress.capture_run_logs(log_path):
        report_commands.after_run(config)  # prints "Report: <path>" and, after a push, "Model card: <path>"
    if failure is not None:
        print(f"\nRun halted: {type(failure).__name__}: {failure}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def cmd_status(args, config: Config) -> int:
    from polarity import metadata, report

    try:
        store = metadata.open_store(config.metadata_path)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    summary = report.run_summary(
        store, config.pipeline_name, serving_dir=config.serving_dir, classes=config.data.classes
    )
    if summary is None:
        print(
            f"error: no run of pipeline '{config.pipeline_name}' in {config.metadata_path}", file=sys.stderr
        )
        return EXIT_USAGE
    _mark_if_interrupted(summary, config)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print_summary(summary)
    return EXIT_OK


def _mark_if_interrupted(summary: dict, config: Config) -> None:
    """A run ML Metadata shows running, whose `polarity run` process is gone, is "interrupted".

    Every writer of the workspace (polarity run, simulate, rollback, each Airflow task)
    records itself in the lock file; Kubeflow runs use another store.
    """
    from polarity import lock

    holder = lock.recorded_holder(config.workspace)
    if summary["state"] != "running" or holder is None or holder["alive"]:
        return
    summary["state"] = "interrupted"
    summary["error"] = (
        f"the process that ran it (pid {holder['pid']}, `{holder.get('command')}`, started "
        f"{holder.get('started')}) ended before the run finished: it was killed or crashed. "
        "Run `polarity run` again: it marks this run canceled and redoes the unfinished work."
    )
    summary["failed_component"] = next(
        (c["id"] for c in summary["components"] if c["state"] == "running"), None
    )


def _quiet_libraries() -> None:
    """Keeps TensorFlow's C++ start-up chatter and Google SDK notices off the console."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module="google")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _quiet_libraries()
    if args.command == "config":
        print(default_config_yaml(), end="")
        return EXIT_OK
    try:
        config = _load(args)
        return args.handler(args, config)
    except (ConfigError, DataError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
