"""The run report: one self-contained HTML file (inline SVG charts, inline CSS, no script,
nothing fetched when it is opened), drawn from polarity/report_data.py's data."""

import html
import pathlib
import re

import jinja2
import markupsafe

from polarity import charts, evaluation_views

REPORTS_DIR = "reports"
_TEMPLATES = pathlib.Path(__file__).with_name("templates")
DELTA_METRICS = ("accuracy", "macro_f1")


def environment() -> jinja2.Environment:
    """The Jinja2 environment of the report and model card templates (HTML-escaped)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _svg(text: str) -> markupsafe.Markup:
    return markupsafe.Markup(text)


def span_charts(span: dict) -> list:
    """Class balance, text-length histogram and one bar chart per slice column."""
    found = []
    if span["class_balance"]:
        balance = span["class_balance"]
        found.append(_svg(charts.bars(list(balance), list(balance.values()), "Class balance", "share", True)))
    lengths = span.get("text_lengths")
    if lengths and lengths["counts"]:
        found.append(
            _svg(
                charts.histogram(
                    lengths["edges"], lengths["counts"], "Text length", "characters (99th pct. caps)"
                )
            )
        )
    for column, counts in span["slice_counts"].items():
        found.append(_svg(charts.bars(list(counts), list(counts.values()), f"Rows per {column}", "rows")))
    return found


def slice_rows(metrics: dict, classes: list) -> list[dict]:
    """Per-slice table rows: each metric of the candidate, the baseline's, and the delta."""
    candidate, baseline = metrics[evaluation_views.CANDIDATE], metrics[evaluation_views.BASELINE]
    names = ["examples", *DELTA_METRICS, *(f"recall/{name}" for name in classes)]
    rows = []
    for where, values in candidate.items():
        before = baseline.get(where, {})
        cells = []
        for name in names:
            value, old = values.get(name), before.get(name)
            delta = None if value is None or old is None or name == "examples" else value - old
            cells.append({"value": value, "baseline": old, "delta": delta})
        rows.append({"slice": where, "cells": cells})
    return [{"names": names, "rows": rows, "with_baseline": bool(baseline)}]


def evaluation_charts(plots: dict, classes: list) -> list:
    """Confusion matrix, reliability diagram, ROC and precision-recall curves (per class;
    the baseline dashed when there is one)."""
    candidate = plots.get(evaluation_views.CANDIDATE, {})
    baseline = plots.get(evaluation_views.BASELINE, {})
    found = []
    if "confusion" in candidate:
        found.append(
            _svg(
                charts.heatmap(
                    candidate["confusion"], classes, "Confusion matrix (candidate)", "predicted", "actual"
                )
            )
        )
    if "confusion" in baseline:
        found.append(
            _svg(
                charts.heatmap(
                    baseline["confusion"], classes, "Confusion matrix (baseline)", "predicted", "actual"
                )
            )
        )
    views = (
        ("calibration", "Reliability diagram", "mean score in bin", "observed share of the class"),
        ("roc", "ROC curves", "false positive rate", "recall"),
        ("pr", "Precision-recall curves", "recall", "precision"),
    )
    for kind, title, xlabel, ylabel in views:
        series = []
        for name in classes:
            for model, dashed in ((candidate, False), (baseline, True)):
                points = model.get("per_class", {}).get(name)
                if not points:
                    continue
                if kind == "calibration":
                    xs, ys = points[kind]["predicted"], points[kind]["observed"]
                else:
                    xs, ys = [p[0] for p in points[kind]], [p[1] for p in points[kind]]
                label = f"{name}{' (baseline)' if dashed else ''}"
                series.append((label, xs, ys, dashed if baseline else None))
        if series:
            found.append(_svg(charts.curves(series, title, xlabel, ylabel, diagonal=kind != "pr")))
    return found


def threshold_rows(section: dict | None, where: str) -> list[dict]:
    """Each blessing threshold with the candidate's (and baseline's) value and the verdict."""
    if not section:
        return []
    rows = []
    for threshold in section["thresholds"]:
        values = section["metrics"][evaluation_views.CANDIDATE].get(threshold["slice"], {})
        before = section["metrics"][evaluation_views.BASELINE].get(threshold["slice"], {})
        value, old = values.get(threshold["metric"]), before.get(threshold["metric"])
        if threshold["floor"] is not None:
            rows.append(
                {
                    "where": where,
                    "rule": f"{threshold['metric']} on {threshold['slice']} ≥ {threshold['floor']:.4f}",
                    "value": value,
                    "passed": value is not None and value >= threshold["floor"],
                }
            )
        if threshold["max_drop"] is not None and old is not None:
            change = None if value is None else value - old
            rows.append(
                {
                    "where": where,
                    "rule": f"{threshold['metric']} on {threshold['slice']} drops "
                    f"≤ {threshold['max_drop']:.4f} below the baseline's {old:.4f}",
                    "value": change,
                    "passed": change is not None and change >= -threshold["max_drop"],
                }
            )
    return rows


def _words(words, limit: int = 0) -> markupsafe.Markup:
    """Tokens shaded by their attribution: red pushes toward the wrong prediction, blue away.
    With a limit, only the first `limit` tokens are shown."""
    if not words:
        return markupsafe.Markup("")
    shown = words[:limit] if limit else words
    top = max(abs(weight) for _, weight in words) or 1.0
    spans = []
    for token, weight in shown:
        alpha = min(abs(weight) / top, 1.0) * 0.6
        shade = f"rgba(214,39,40,{alpha:.2f})" if weight > 0 else f"rgba(31,119,180,{alpha:.2f})"
        spans.append(
            f'<span class="word" style="background:{shade}" title="{weight:+.3f}">{html.escape(token)}</span>'
        )
    more = " …" if len(shown) < len(words) else ""
    return markupsafe.Markup(" ".join(spans) + more)


def render_run_report(data: dict) -> str:
    """The HTML report of one run, from `report_data.run_report_data`."""
    classes = data["classes"]
    evaluation = data["evaluation"]
    golden = data["golden"]
    return (
        environment()
        .get_template("run_report.html.j2")
        .render(
            data=data,
            summary=data["summary"],
            span=data["span"],
            span_charts=span_charts(data["span"]),
            span_tables=slice_rows(evaluation["metrics"], classes) if evaluation else [],
            golden_tables=slice_rows(golden["metrics"], classes) if golden else [],
            evaluation_charts=evaluation_charts(evaluation["plots"], classes) if evaluation else [],
            thresholds=threshold_rows(evaluation, "span eval split") + threshold_rows(golden, "golden set"),
            words=_words,
        )
    )


def report_path(workspace: pathlib.Path, run_id: str) -> pathlib.Path:
    """Where `polarity run` keeps a run's report: <workspace>/reports/run-<run id>.html."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", run_id)
    return pathlib.Path(workspace) / REPORTS_DIR / f"run-{safe}.html"
