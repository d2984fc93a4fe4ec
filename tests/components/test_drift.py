"""Drift measures between span profiles built from real TFDV statistics protos."""

import pytest
from tensorflow_metadata.proto.v0 import statistics_pb2

from components import drift, features


def _statistics(rows: int, positive_share: float, sources: dict, mean_length: float):
    statistics = statistics_pb2.DatasetFeatureStatisticsList()
    dataset = statistics.datasets.add(num_examples=rows)
    label = dataset.features.add()
    label.path.step.append(features.LABEL_KEY)
    label.num_stats.mean = positive_share
    text = dataset.features.add()
    text.path.step.append(features.TEXT_KEY)
    text.string_stats.avg_length = mean_length
    source = dataset.features.add()
    source.path.step.append(features.SOURCE_KEY)
    for name, count in sources.items():
        source.string_stats.top_values.add(value=name, frequency=count)
    return statistics


CHECKS = [
    drift.DriftCheck("label_balance", 0.15, drift.HALT),
    drift.DriftCheck("source_mix", 0.30, drift.WARN),
    drift.DriftCheck("text_length", 0.50, drift.WARN),
]


def test_profile_weights_splits_by_their_rows():
    profile = drift.span_profile(
        [
            _statistics(300, 0.5, {"imdb": 300}, 1000.0),
            _statistics(100, 0.9, {"rotten_tomatoes": 100}, 100.0),
        ]
    )
    assert profile["rows"] == 400
    assert profile["label_balance"] == pytest.approx(0.6)
    assert profile["source_mix"] == {"imdb": 0.75, "rotten_tomatoes": 0.25}
    assert profile["text_length"] == pytest.approx(775.0)


def test_same_kind_of_span_does_not_drift():
    previous = drift.span_profile([_statistics(500, 0.50, {"imdb": 400, "rotten_tomatoes": 100}, 900.0)])
    current = drift.span_profile([_statistics(480, 0.55, {"imdb": 370, "rotten_tomatoes": 110}, 1000.0)])
    assert drift.find_drift(previous, current, CHECKS) == []


def test_label_jump_halts_and_domain_shift_warns():
    previous = drift.span_profile([_statistics(500, 0.5, {"imdb": 500}, 1300.0)])
    current = drift.span_profile([_statistics(500, 0.9, {"rotten_tomatoes": 500}, 120.0)])
    findings = {finding.measure: finding for finding in drift.find_drift(previous, current, CHECKS)}
    assert set(findings) == {"label_balance", "source_mix", "text_length"}
    assert findings["label_balance"].action == drift.HALT
    assert findings["label_balance"].distance == pytest.approx(0.4)
    assert findings["source_mix"].distance == pytest.approx(1.0)
    assert findings["text_length"].distance == pytest.approx((1300 - 120) / 1300)
    assert "label_balance drifted by 0.400 (threshold 0.150" in findings["label_balance"].describe()


def test_checks_round_trip_through_the_json_parameter():
    assert drift.checks_from_json(drift.checks_to_json(CHECKS)) == CHECKS
    assert drift.checks_from_json("") == []
