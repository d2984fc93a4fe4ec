"""Drift between a span and the previous validated span, from StatisticsGen protos.

Three measures, each with a threshold and an action ("halt" stops the run,
"warn" records the finding and lets the run go on):
- label balance: absolute change of the share of positive labels;
- source mix: L-infinity distance between the two spans' source distributions
  (the measure TFDV's drift comparator uses for categorical features);
- text length: relative change of the mean review length in characters.
"""

import dataclasses
import json

from components import features

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
        return "{" + ", ".join(f"{key}: {share:.2f}" for key, share in sorted(value.items())) + "}"
    return f"{value:.3f}"


def checks_from_json(text: str) -> list[DriftCheck]:
    return [DriftCheck(**item) for item in json.loads(text or "[]")]


def checks_to_json(checks: list[DriftCheck]) -> str:
    return json.dumps([dataclasses.asdict(check) for check in checks], sort_keys=True)


def _feature(dataset, name: str):
    for feature in dataset.features:
        if (feature.path.step and feature.path.step[0] == name) or feature.name == name:
            return feature
    return None


def span_profile(statistics_lists) -> dict:
    """Positive-label share, source shares and mean text length of a span.

    Args:
      statistics_lists: DatasetFeatureStatisticsList protos, one per split.
    """
    rows = positives = length_total = 0.0
    sources: dict = {}
    for statistics in statistics_lists:
        for dataset in statistics.datasets:
            count = dataset.num_examples
            rows += count
            label = _feature(dataset, features.LABEL_KEY)
            if label is not None:
                positives += label.num_stats.mean * count
            text = _feature(dataset, features.TEXT_KEY)
            if text is not None:
                length_total += text.string_stats.avg_length * count
            source = _feature(dataset, features.SOURCE_KEY)
            if source is not None:
                for bucket in source.string_stats.top_values:
                    sources[bucket.value] = sources.get(bucket.value, 0) + bucket.frequency
    rows = rows or 1
    total_sources = sum(sources.values()) or 1
    return {
        "rows": int(rows),
        "label_balance": positives / rows,
        "source_mix": {name: count / total_sources for name, count in sources.items()},
        "text_length": length_total / rows,
    }


def _distance(measure: str, previous, current) -> float:
    if measure == "source_mix":
        names = set(previous) | set(current)
        return max((abs(previous.get(n, 0.0) - current.get(n, 0.0)) for n in names), default=0.0)
    if measure == "text_length":
        return abs(current - previous) / max(previous, 1e-9)
    return abs(current - previous)


def find_drift(previous_profile: dict, current_profile: dict, checks: list[DriftCheck]) -> list[DriftFinding]:
    """The checks whose measure moved past its threshold between two span profiles."""
    findings = []
    for check in checks:
        previous, current = previous_profile[check.measure], current_profile[check.measure]
        distance = _distance(check.measure, previous, current)
        if distance > check.threshold:
            findings.append(
                DriftFinding(check.measure, previous, current, distance, check.threshold, check.action)
            )
    return findings
