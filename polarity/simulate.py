"""`polarity simulate`: replay the bundled reviews as spans arriving one after another.

Each span is written when its turn comes and the pipeline runs as a scheduler
would run it; the timeline (one line per span, and JSON) shows rows, anomalies,
drift from the previous span, metrics per slice, the blessing and the version
serving afterwards. `--inject SPAN=FAULT` spoils a span on purpose to show what
the pipeline does with it.
"""

import io
import json
import pathlib
import random
import sys

from polarity import data
from polarity.data import BUNDLED_CONTRACT

# The simulation replays the bundled reviews, whose columns the default contract names.
_TEXT, _LABEL = BUNDLED_CONTRACT.text_column, BUNDLED_CONTRACT.label_column

# Each fault takes the span's rows and a seeded Random and returns new rows.
FAULTS = {
    # Most labels flipped, balance unchanged: a poisoned span that looks fine.
    "flip-labels": lambda rows, rng: [_flip(row) if rng.random() < 0.8 else row for row in rows],
    # Heavy label noise: the model trained on it regresses.
    "label-noise": lambda rows, rng: [_flip(row) if rng.random() < 0.4 else row for row in rows],
    # Nearly all positive: a jump in label balance.
    "label-jump": lambda rows, rng: [row for row in rows if row[_LABEL] == "1" or rng.random() < 0.1],
    # A few reviews lost their text.
    "empty-text": lambda rows, rng: [
        {**row, _TEXT: ""} if index % 50 == 0 else row for index, row in enumerate(rows)
    ],
    # A handful of rows.
    "few-rows": lambda rows, rng: rows[:20],
}


def _flip(row: dict) -> dict:
    return {**row, _LABEL: "0" if row[_LABEL] == "1" else "1"}


def parse_injections(items) -> dict:
    """['3=flip-labels'] -> {3: 'flip-labels'}, with an error naming a bad item."""
    injections = {}
    for item in items or ():
        span, _, fault = item.partition("=")
        if not span.isdigit() or fault not in FAULTS:
            raise data.DataError(f"--inject {item!r}: expected SPAN=FAULT with FAULT one of {sorted(FAULTS)}")
        injections[int(span)] = fault
    return injections


def plan_spans(reviews: list, spans: int, rows: int | None, seed: int, injections: dict) -> list:
    """The rows of each span (from reviews outside the golden set): IMDB first,
    Rotten Tomatoes later (a domain shift), faults applied."""
    parts = data.split_spans(reviews, spans, seed=seed, limit=rows, order="by-source")
    for span, fault in injections.items():
        if not 1 <= span <= spans:
            raise data.DataError(f"--inject {span}={fault}: there are only {spans} spans")
        parts[span - 1] = FAULTS[fault](parts[span - 1], random.Random(seed + span))
    return parts


def timeline_entry(span: int, fault: str | None, summary: dict | None, failure: str | None) -> dict:
    """One span's outcome, from its run summary."""
    summary = summary or {}
    metrics = summary.get("metrics") or {}
    golden = (summary.get("golden_metrics") or {}).get("overall", {})
    return {
        "span": span,
        "injected": fault,
        "rows": sum((summary.get("rows") or {}).values()),
        "anomalies": len(summary.get("anomalies") or []),
        "drift_warnings": summary.get("drift_warnings") or [],
        "accuracy": {name: values.get("accuracy") for name, values in metrics.items()},
        "golden_accuracy": golden.get("accuracy"),
        "blessed": summary.get("blessed"),
        "not_blessed_because": summary.get("not_blessed_because") or [],
        "halted": failure,
        "serving_version": (summary.get("serving") or {}).get("version"),
    }


def render_entry(entry: dict) -> str:
    accuracy = entry["accuracy"]
    parts = [f"span {entry['span']:>2}", f"{entry['rows']:>6} rows"]
    if entry["injected"]:
        parts.append(f"[{entry['injected']}]")
    if entry["halted"]:
        parts.append(f"HALTED: {entry['halted'].splitlines()[0]}")
    else:
        parts.append(f"anomalies {entry['anomalies']}")
        parts.append(f"drift warnings {len(entry['drift_warnings'])}")
        shown = {k: v for k, v in accuracy.items() if v is not None and not k.startswith("length")}
        parts.append("acc " + " ".join(f"{k}={v:.3f}" for k, v in shown.items()))
        if entry["golden_accuracy"] is not None:
            parts.append(f"golden={entry['golden_accuracy']:.3f}")
        parts.append("blessed" if entry["blessed"] else "NOT blessed")
    parts.append(f"serving v{entry['serving_version']}")
    return " | ".join(parts)


def simulate(config, spans: int, rows: int | None, seed: int, injections: dict, out=None) -> list:
    """Writes and runs the spans in turn, printing a line each to `out` (stdout);
    returns the timeline entries. Hold the workspace lock around it (cmd_simulate does)."""
    out = out or sys.stdout
    from pipelines.local_runner import run_local
    from polarity import metadata, report, schema

    golden, reviews = data.split_golden(data.read_reviews())
    parts = plan_spans(reviews, spans, rows, seed, injections)
    data.write_golden(config.golden_root, golden)
    schema.install_bundled_schema(str(config.schema_file))
    timeline = []
    for span, span_rows in enumerate(parts, start=1):
        data.write_span(config.data_root, span, data.render_csv(span_rows))
        failure = None
        try:
            run_local(config)
        except Exception as error:  # a halted span is part of the timeline
            failure = f"{type(error).__name__}: {error}"
        summary = report.run_summary(
            metadata.open_store(config.metadata_path),
            config.pipeline_name,
            serving_dir=config.serving_dir,
            classes=config.data.classes,
        )
        entry = timeline_entry(span, injections.get(span), summary, failure)
        timeline.append(entry)
        out.write(render_entry(entry) + "\n")
        out.flush()
    return timeline


def cmd_simulate(args, config) -> int:
    injections = parse_injections(args.inject)
    if data.latest_span(config.data_root) is not None:
        print(f"error: {config.data_root} holds spans; simulate in a new --workspace", file=sys.stderr)
        return 2
    from polarity import lock, progress, recovery

    log_path = pathlib.Path(config.workspace).absolute() / "logs" / "simulate.log"
    print(f"Simulating {args.spans} spans in {config.workspace} (log: {log_path})")
    try:
        with recovery.workspace_writer(
            config.workspace, config.metadata_path, config.pipeline_root
        ) as closed:
            for line in closed:
                print(line)
            with progress.capture_run_logs(log_path, stream=io.StringIO()):
                timeline = simulate(config, args.spans, args.rows, args.seed, injections)
    except lock.WorkspaceBusyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    output = args.output or pathlib.Path(config.workspace) / "timeline.json"
    output.write_text(json.dumps(timeline, indent=2) + "\n", encoding="utf-8")
    print(f"Timeline written to {output}")
    return 0


def register(commands, add_common_flags) -> None:
    parser = commands.add_parser("simulate", help="Replay the reviews as spans arriving over time.")
    add_common_flags(parser)
    parser.add_argument("--spans", type=int, default=4, help="Number of spans (default 4).")
    parser.add_argument("--rows", type=int, help="Reviews in all across the spans (default: all).")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--inject", action="append", metavar="SPAN=FAULT", help=f"Spoil a span: FAULT in {sorted(FAULTS)}."
    )
    parser.add_argument("--output", type=pathlib.Path, help="Timeline JSON (<workspace>/timeline.json).")
    parser.set_defaults(handler=cmd_simulate)
