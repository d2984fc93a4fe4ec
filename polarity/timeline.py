"""`polarity report --timeline`: the whole history of a workspace's runs on one page.

One entry per run, oldest first (simulate.timeline_entry's fields): accuracy per
slice, drift warnings, halts, the blessing, and which version served after it (pushes
from ML Metadata, rollbacks from the serving directory's journal).
"""

import datetime

from polarity import charts, html_report, metadata, report, rollback, simulate


def _served_after(entries: list, runs: list, journal: list) -> None:
    """Sets each entry's "serving_version": the version served once its run ended."""
    rollbacks = sorted(journal, key=lambda entry: entry.get("time", ""))
    served = None
    for index, entry in enumerate(entries):
        if entry["pushed_version"] is not None:
            served = int(entry["pushed_version"])
        ended = runs[index + 1].create_time_since_epoch if index + 1 < len(runs) else None
        for event in rollbacks:
            when = datetime.datetime.fromisoformat(event["time"]).timestamp() * 1000
            if when >= runs[index].create_time_since_epoch and (ended is None or when < ended):
                served = event["version"]
        entry["serving_version"] = served


def timeline_data(config, store) -> list[dict]:
    """One entry per run of the pipeline, oldest first."""
    classes = tuple(config.data.classes)
    runs = metadata.pipeline_runs(store, config.pipeline_name)
    entries = []
    for number, run in enumerate(runs, start=1):
        summary = report.run_summary(store, config.pipeline_name, run, classes=classes)
        failed = summary["failed_component"]
        failure = summary["error"] or (failed and f"failed in {failed}") or None
        entry = simulate.timeline_entry(summary["span"], None, summary, failure)
        entry.update(
            run=number,
            run_id=run.name,
            pushed_version=summary["pushed_version"] if summary["pushed"] else None,
        )
        entries.append(entry)
    _served_after(entries, runs, rollback.read_journal(config.serving_dir))
    return entries


def timeline_charts(entries: list) -> list:
    """Accuracy per slice per run (halts and drift warnings marked), and the served version."""
    if not entries:
        return []
    runs = [entry["run"] for entry in entries]
    labels = [f"{entry['run']}\nspan {entry['span']}" for entry in entries]
    slices = sorted(
        {name for entry in entries for name in entry["accuracy"]}, key=lambda n: (n != "overall", n)
    )
    series = [(name, [entry["accuracy"].get(name) for entry in entries]) for name in slices]
    series.append(("golden overall", [entry["golden_accuracy"] for entry in entries]))
    marks = [(entry["run"], "halted", "#b22222") for entry in entries if entry["halted"]]
    marks += [(entry["run"], "drift warning", "#b26b00") for entry in entries if entry["drift_warnings"]]
    versions = sorted({entry["serving_version"] for entry in entries if entry["serving_version"] is not None})
    found = [charts.timeline(runs, labels, series, "Accuracy per slice", "accuracy", marks)]
    if versions:
        found.append(
            charts.steps(
                runs,
                labels,
                [entry["serving_version"] for entry in entries],
                versions,
                "Version served after each run",
            )
        )
    return [html_report.markupsafe.Markup(svg) for svg in found]


def render_timeline(config, entries: list) -> str:
    """The timeline page."""
    return (
        html_report.environment()
        .get_template("timeline.html.j2")
        .render(pipeline=config.pipeline_name, entries=entries, charts=timeline_charts(entries))
    )
