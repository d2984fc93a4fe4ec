"""Drift between a span and the previous validated span, from StatisticsGen protos.

Three measures, each with a threshold and an action ("halt" stops the run,
"warn" records the finding and lets the run go on):
- label balance: L-infinity distance between the two spans' class distributions,
  the largest change of any class's share (with two classes, the change of the
  positive share);
- slice mix: for each slice column of the dataset contract, the L-infinity distance
  between the two spans' value distributions (the measure TFDV's drift comparator
  uses for categorical features); the largest over the columns;
- text length: relative change of the mean text length in characters.
"""

import dataclasses
import json

from components.contract import DatasetContract

HALT, WARN = "halt", "warn"


@dataclasses.dataclass(frozen=True)
class DriftCheck:
    """One drift measure with its threshold and what crossing it does."""

    measure: str
    threshold: float
    action: str


@dataclasses.dataclass(frozen=True)
class DriftFinding:
    """A measure that crossed its threshold."""

    measure: str
    previous: float | dict
    current: float | dict
    distance: float
    threshold: float
    action: str

    def describe(self) -> str:
        return (
            f"{self.measure} drifted by {self.distance:.3f} (threshold {self.threshold:.3f}; "
            f"previous span {_short(self.previous)}, this span {_short(self.current)})"
        )


def _short(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_short(share)}" for key, share in sorted(value.items())) + "}"
    return f"{value:.2f}" if isinstance(value, float) and value <= 1 else f"{value:.3f}"


def checks_from_json(text: str) -> list[DriftCheck]:
    return [DriftCheck(**item) for item in json.loads(text or "[]")]


def checks_to_json(checks: list[DriftCheck]) -> str:
    return json.dumps([dataclasses.asdict(check) for check in checks], sort_keys=True)


def _feature(dataset, name: str):
    for feature in dataset.features:
        if (feature.path.step and feature.path.step[0] == name) or feature.name == name:
            return feature
    return None


def _value_counts(feature) -> dict[str, float]:
    """Counts of each value of a categorical feature's statistics (rank histogram, else top values)."""
    stats = feature.string_stats
    if stats.rank_histogram.buckets:
        return {bucket.label: bucket.sample_count for bucket in stats.rank_histogram.buckets}
    return {bucket.value: bucket.frequency for bucket in stats.top_values}


def _class_counts(feature, rows: float, contract: DatasetContract) -> dict[str, float]:
    """Counts per class name of the label column's statistics."""
    counts = {name: 0.0 for name in contract.classes}
    values = _value_counts(feature)
    if not values and contract.num_classes == 2 and feature.HasField("num_stats"):
        # An integer label without categorical statistics: its mean is the second class's share.
        values = {"1": feature.num_stats.mean * rows, "0": (1 - feature.num_stats.mean) * rows}
    for value, count in values.items():
        index = contract.class_index(value)
        if index is not None:
            counts[contract.classes[index]] += count
    return counts


def _shares(counts: dict) -> dict:
    total = sum(counts.values()) or 1
    return {name: count / total for name, count in counts.items()}


def span_profile(statistics_lists, contract: DatasetContract) -> dict:
    """Class shares, slice-column value shares and mean text length of a span.

    Args:
      statistics_lists: DatasetFeatureStatisticsList protos, one per split.
      contract: which columns hold the text, the label and the slices.
    """
    rows = length_total = 0.0
    classes: dict = {name: 0.0 for name in contract.classes}
    slices: dict = {column: {} for column in contract.slice_columns}
    for statistics in statistics_lists:
        for dataset in statistics.datasets:
            count = dataset.num_examples
            rows += count
            label = _feature(dataset, contract.label_column)
            if label is not None:
                for name, found in _class_counts(label, count, contract).items():
                    classes[name] += found
            text = _feature(dataset, contract.text_column)
            if text is not None:
                length_total += text.string_stats.avg_length * count
            for column in contract.slice_columns:
                feature = _feature(dataset, column)
                for value, found in (_value_counts(feature) if feature is not None else {}).items():
                    slices[column][value] = slices[column].get(value, 0) + found
    return {
        "rows": int(rows),
        "label_balance": _shares(classes),
        "slice_mix": {column: _shares(counts) for column, counts in slices.items()},
        "text_length": length_total / (rows or 1),
    }


def _linf(previous: dict, current: dict) -> float:
    names = set(previous) | set(current)
    return max((abs(previous.get(n, 0.0) - current.get(n, 0.0)) for n in names), default=0.0)


def _distance(measure: str, previous, current) -> float:
    if measure == "label_balance":
        return _linf(previous, current)
    if measure == "slice_mix":
        return max((_linf(previous.get(c, {}), current[c]) for c in current), default=0.0)
    return abs(current - previous) / max(previous, 1e-9)


def _comparable(previous, current) -> bool:
    """Profiles written before a change of the contract (or of this module) are skipped, not misread."""
    return type(previous) is type(current) and (not isinstance(current, dict) or bool(previous))


def find_drift(previous_profile: dict, current_profile: dict, checks: list[DriftCheck]) -> list[DriftFinding]:
    """The checks whose measure moved past its threshold between two span profiles."""
    findings = []
    for check in checks:
        previous, current = previous_profile.get(check.measure), current_profile[check.measure]
        if not _comparable(previous, current):
            continue
        distance = _distance(check.measure, previous, current)
        if distance > check.threshold:
            findings.append(
                DriftFinding(check.measure, previous, current, distance, check.threshold, check.action)
            )
    return findings
