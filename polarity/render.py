"""Renders a run summary (polarity/report.py) for people."""

COLUMNS = ("examples", "accuracy", "macro_f1")


def _columns(metrics: dict, classes: list) -> list[str]:
    """The common columns, then precision and recall of each class, in the contract's class order."""
    found = {name for values in metrics.values() for name in values if "/" in name}
    order = {name: index for index, name in enumerate(classes)}

    def key(column):
        metric, _, class_name = column.partition("/")
        return (metric, order.get(class_name, len(order)), class_name)

    return [*COLUMNS, *sorted(found, key=key)]


def metrics_table(metrics: dict, classes: list = ()) -> list[str]:
    columns = _columns(metrics, list(classes))
    widths = [max(9, len(column)) for column in columns]
    width = max([len("slice")] + [len(name) for name in metrics])
    lines = [
        f"    {'slice':<{width}}  " + "  ".join(f"{c:>{w}}" for c, w in zip(columns, widths, strict=True))
    ]
    for name, values in metrics.items():
        cells = []
        for column, cell_width in zip(columns, widths, strict=True):
            value = values.get(column)
            if value is None:
                cells.append(f"{'-':>{cell_width}}")
            elif column == "examples":
                cells.append(f"{int(value):>{cell_width}d}")
            else:
                cells.append(f"{value:>{cell_width}.4f}")
        lines.append(f"    {name:<{width}}  " + "  ".join(cells))
    return lines


def render_summary(summary: dict) -> str:
    """A few lines: components and times, rows, anomalies, metrics, blessing, push."""
    lines = [f"\nRun {summary['run_id']} of '{summary['pipeline']}': {summary['state']}"]
    if summary.get("classes"):
        lines.append(f"Classes: {', '.join(summary['classes'])}")
    for component in summary["components"]:
        lines.append(f"  {component['id']:<30} {component['state']:<9} {component['seconds']:7.1f} s")
    rows = summary.get("rows") or {}
    if rows:
        split_text = ", ".join(f"{count} {split}" for split, count in rows.items())
        lines.append(f"Rows read: {sum(rows.values())} (span {summary.get('span')}: {split_text})")
    anomalies = summary.get("anomalies") or []
    lines.append(f"Anomalies: {len(anomalies)}" + "".join(f"\n  - {item}" for item in anomalies))
    warnings = summary.get("drift_warnings") or []
    if warnings:
        lines.append("Drift from the previous span (warnings):")
        lines += [f"  - {item}" for item in warnings]
    if summary.get("metrics"):
        lines.append("Metrics on the eval split, per slice:")
        lines += metrics_table(summary["metrics"], summary.get("classes") or [])
    if summary.get("golden_metrics"):
        lines.append("Metrics on the golden set:")
        lines += metrics_table(summary["golden_metrics"], summary.get("classes") or [])
    if summary.get("blessed") is not None:
        lines.append(f"Blessed: {'yes' if summary['blessed'] else 'no'}")
        lines += [f"  - {reason}" for reason in summary.get("not_blessed_because") or []]
    if summary.get("pushed"):
        lines.append(f"Pushed model: {summary['pushed_model']} (version {summary['pushed_version']})")
    elif summary.get("pushed") is False:
        lines.append("Pushed model: none (not blessed; the serving directory is unchanged)")
    serving = summary.get("serving")
    if serving:
        origin = f" (rollback of {serving['rollback_of']})" if serving.get("rollback_of") else ""
        lines.append(f"Serving: version {serving['version']}{origin}")
    if summary.get("error"):
        verb = "Interrupted in" if summary.get("state") == "interrupted" else "Failed at"
        lines.append(f"{verb} {summary['failed_component']}: {summary['error']}")
    return "\n".join(lines) + "\n"
