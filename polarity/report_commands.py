"""`polarity report`: the run report and the timeline as self-contained HTML files; and
what `polarity run` writes after each run (the report, and a model card when it pushed)."""

import pathlib
import sys

from polarity.config import Config

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
TIMELINE_FILE = "timeline.html"


def register(commands, add_common_flags) -> None:
    """Adds `report` to the `polarity` sub-commands."""
    parser = commands.add_parser(
        "report", help="Write what happened in a run (or in every run, --timeline) as one HTML file."
    )
    add_common_flags(parser)
    parser.add_argument("--run", metavar="ID", help="The run to report (default: the latest).")
    parser.add_argument("--output", type=pathlib.Path, metavar="FILE", help="Where to write the HTML file.")
    parser.add_argument(
        "--timeline",
        action="store_true",
        help="Draw the whole history: accuracy per slice per span, "
        "drift warnings, halts, and which version served when.",
    )
    parser.set_defaults(handler=cmd_report)


def _write(path: pathlib.Path, text: str) -> pathlib.Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.tmp")
    staging.write_text(text, encoding="utf-8")
    staging.replace(path)
    return path


def write_run_report(config: Config, store, run_id: str | None = None, output=None) -> pathlib.Path | None:
    """Writes a run's report (default: the latest run, into <workspace>/reports/); returns
    its path, or None if nothing ran.

    Raises:
      LookupError: no run has that id.
    """
    from polarity import html_report, report_data

    data = report_data.run_report_data(config, store, run_id)
    if data is None:
        return None
    path = output or html_report.report_path(config.workspace, data["summary"]["run_id"])
    return _write(pathlib.Path(path), html_report.render_run_report(data))


def write_timeline(config: Config, store, output=None) -> pathlib.Path:
    """Writes the timeline of every run (default <workspace>/reports/timeline.html)."""
    from polarity import html_report, timeline

    path = output or pathlib.Path(config.workspace) / html_report.REPORTS_DIR / TIMELINE_FILE
    return _write(pathlib.Path(path), timeline.render_timeline(config, timeline.timeline_data(config, store)))


def cmd_report(args, config: Config) -> int:
    from polarity import metadata

    try:
        store = metadata.open_store(config.metadata_path)
        if args.timeline:
            path = write_timeline(config, store, args.output)
        else:
            path = write_run_report(config, store, args.run, args.output)
    except (FileNotFoundError, LookupError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    if path is None:
        print(f"error: no run of {config.pipeline_name} recorded in {config.metadata_path}", file=sys.stderr)
        return EXIT_USAGE
    print(f"Report: {path}")
    return EXIT_OK


def after_run(config: Config, out=None) -> None:
    """What `polarity run` calls once a run ended (passed, halted or failed): writes the run
    report and, when the run pushed a version, its model card; prints both paths.

    A report that cannot be written is a warning, never a failed run: the model is served.
    """
    from polarity import metadata, model_card

    out = out or sys.stdout
    if not config.metadata_path.is_file():  # the run failed before its first component
        return
    try:
        store = metadata.open_store(config.metadata_path)
        path = write_run_report(config, store)
        if path is not None:
            print(f"Report: {path}", file=out)
        version = _pushed_version(config, store)
        if version is not None:
            print(f"Model card: {model_card.write_card(config, store, version)}", file=out)
    except Exception as error:  # noqa: BLE001 (the run itself is done; say what failed and go on)
        print(f"warning: the run report was not written: {type(error).__name__}: {error}", file=sys.stderr)


def _pushed_version(config: Config, store) -> int | None:
    """The version the latest run pushed, or None."""
    from polarity import report

    summary = report.run_summary(store, config.pipeline_name, classes=tuple(config.data.classes))
    if summary and summary["pushed"] and summary["pushed_version"] is not None:
        return int(summary["pushed_version"])
    return None
