"""Drift measures between span profiles built from real TFDV statistics protos."""

import pytest
from tensorflow_metadata.proto.v0 import statistics_pb2

from components import drift
from components.contract import DatasetContract

CONTRACT = DatasetContract()
THREE_CLASSES = DatasetContract(
    classes=("negative", "neutral", "positive"), slice_columns=("source", "channel")
)


def _statistics(rows: int, positive_share: float, sources: dict, mean_length: float):
    """A binary span whose integer label has only numeric statistics (its mean)."""
    statistics = statistics_pb2.DatasetFeatureStatisticsList()
    dataset = statistics.datasets.add(num_examples=rows)
    label = dataset.features.add()
    label.path.step.append("label")
    label.num_stats.mean = positive_share
    text = dataset.features.add()
    text.path.step.append("text")
    text.string_stats.avg_length = mean_length
    source = dataset.features.add()
    source.path.step.append("source")
    for name, count in sources.items():
        source.string_stats.top_values.add(value=name, frequency=count)
    return statistics


def _categorical_statistics(labels: dict, slices: dict):
    """A span whose label and slice columns have categorical statistics (rank histograms)."""
    statistics = statistics_pb2.DatasetFeatureStatisticsList()
    dataset = statistics.datasets.add(num_examples=int(sum(labels.values())))
    for name, counts in (("label", labels), *slices.items()):
        feature = dataset.features.add()
        feature.path.step.append(name)
        for value, count in counts.items():
            feature.string_stats.rank_histogram.buckets.add(label=value, sample_count=count)
    text = dataset.features.add()
    text.path.step.append("text")
    text.string_stats.avg_length = 80.0
    return statistics


CHECKS = [
    drift.DriftCheck("label_balance", 0.15, drift.HALT),
    drift.DriftCheck("slice_mix", 0.30, drift.WARN),
    drift.DriftCheck("text_length", 0.50, drift.WARN),
]


def test_profile_weights_splits_by_their_rows():
    profile = drift.span_profile(
        [
            _statistics(300, 0.5, {"imdb": 300}, 1000.0),
            _statistics(100, 0.9, {"rotten_tomatoes": 100}, 100.0),
        ],
        CONTRACT,
    )
    assert profile["rows"] == 400
    assert profile["label_balance"] == pytest.approx({"negative": 0.4, "positive": 0.6})
    assert profile["slice_mix"] == {"source": {"imdb": 0.75, "rotten_tomatoes": 0.25}}
    assert profile["text_length"] == pytest.approx(775.0)


def test_same_kind_of_span_does_not_drift():
    previous = drift.span_profile(
        [_statistics(500, 0.50, {"imdb": 400, "rotten_tomatoes": 100}, 900.0)], CONTRACT
    )
    current = drift.span_profile(
        [_statistics(480, 0.55, {"imdb": 370, "rotten_tomatoes": 110}, 1000.0)], CONTRACT
    )
    assert drift.find_drift(previous, current, CHECKS) == []


def test_label_jump_halts_and_domain_shift_warns():
    previous = drift.span_profile([_statistics(500, 0.5, {"imdb": 500}, 1300.0)], CONTRACT)
    current = drift.span_profile([_statistics(500, 0.9, {"rotten_tomatoes": 500}, 120.0)], CONTRACT)
    findings = {finding.measure: finding for finding in drift.find_drift(previous, current, CHECKS)}
    assert set(findings) == {"label_balance", "slice_mix", "text_length"}
    assert findings["label_balance"].action == drift.HALT
    assert findings["label_balance"].distance == pytest.approx(0.4)
    assert findings["slice_mix"].distance == pytest.approx(1.0)
    assert findings["text_length"].distance == pytest.approx((1300 - 120) / 1300)
    assert "label_balance drifted by 0.400 (threshold 0.150" in findings["label_balance"].describe()


def test_any_class_share_moving_past_the_threshold_halts_three_classes():
    # Labels given as names in one span and as indices in the next are the same classes.
    previous = drift.span_profile(
        [
            _categorical_statistics(
                {"negative": 400, "neutral": 400, "positive": 200}, {"source": {"a": 1000}}
            )
        ],
        THREE_CLASSES,
    )
    current = drift.span_profile(
        [_categorical_statistics({"0": 400, "1": 200, "2": 400}, {"source": {"a": 1000}})], THREE_CLASSES
    )
    assert current["label_balance"] == pytest.approx({"negative": 0.4, "neutral": 0.2, "positive": 0.4})
    (finding,) = drift.find_drift(previous, current, CHECKS)
    assert finding.measure == "label_balance" and finding.distance == pytest.approx(0.2)


def test_slice_mix_is_the_largest_shift_over_the_slice_columns():
    labels = {"negative": 50, "neutral": 50, "positive": 50}
    previous = drift.span_profile(
        [_categorical_statistics(labels, {"source": {"a": 150}, "channel": {"web": 100, "app": 50}})],
        THREE_CLASSES,
    )
    current = drift.span_profile(
        [_categorical_statistics(labels, {"source": {"a": 150}, "channel": {"web": 30, "app": 120}})],
        THREE_CLASSES,
    )
    (finding,) = drift.find_drift(previous, current, CHECKS)
    assert finding.measure == "slice_mix" and finding.distance == pytest.approx(100 / 150 - 30 / 150)


def test_a_baseline_written_before_the_contract_is_skipped_not_misread():
    old = {"rows": 500, "label_balance": 0.5, "source_mix": {"imdb": 1.0}, "text_length": 900.0}
    current = drift.span_profile([_statistics(500, 0.95, {"imdb": 500}, 900.0)], CONTRACT)
    assert drift.find_drift(old, current, CHECKS) == []


def test_checks_round_trip_through_the_json_parameter():
    assert drift.checks_from_json(drift.checks_to_json(CHECKS)) == CHECKS
    assert drift.checks_from_json("") == []
