"""`polarity simulate` on three small spans: a good one, a label-balance jump, a poisoned
domain-shifted one. Asserts the timeline and that only the good model was ever served."""

import json

import pytest
from workspace_helpers import run_cli, small_run_flags

from polarity import simulate
from polarity.data import DataError
from serving import model_dir


def test_bad_injection_is_refused_with_the_known_faults():
    with pytest.raises(DataError, match="expected SPAN=FAULT with FAULT one of"):
        simulate.parse_injections(["2=explode"])


def test_simulation_timeline_halts_warns_and_never_serves_a_poisoned_model(tmp_path, capsys):
    workspace = tmp_path / "workspace"
    exit_code = run_cli(
        "simulate", "--workspace", str(workspace), "--spans", "3", "--rows", "1800",
        "--inject", "2=label-jump", "--inject", "3=flip-labels", *small_run_flags(),
    )  # fmt: skip
    out = capsys.readouterr().out
    assert exit_code == 0, out
    timeline = json.loads((workspace / "timeline.json").read_text(encoding="utf-8"))
    first, jump, poisoned = timeline

    assert first["blessed"] is True and first["halted"] is None
    served = first["serving_version"]
    assert served is not None

    assert "label_balance drifted" in jump["halted"]
    assert jump["serving_version"] == served

    # Span 3 is mostly Rotten Tomatoes after IMDB spans: the domain shift warns...
    assert any(warning.startswith("slice_mix drifted") for warning in poisoned["drift_warnings"])
    # ...and its flipped labels fail on the golden set, so it is not pushed.
    assert poisoned["blessed"] is False
    assert poisoned["golden_accuracy"] < 0.6  # the small runs' golden floor
    assert any(reason.startswith("golden set:") for reason in poisoned["not_blessed_because"])
    assert poisoned["serving_version"] == served
    assert model_dir.list_versions(workspace / "serving" / "polarity") == [served]

    lines = [line for line in out.splitlines() if line.startswith("span ")]
    assert len(lines) == 3 and "HALTED" in lines[1] and "NOT blessed" in lines[2]


def test_label_noise_span_runs_to_the_evaluator_is_not_blessed_and_serving_stays(tmp_path, capsys):
    workspace = tmp_path / "workspace"
    exit_code = run_cli(
        "simulate", "--workspace", str(workspace), "--spans", "2", "--rows", "1800",
        "--inject", "2=label-noise", *small_run_flags(),
    )  # fmt: skip
    out = capsys.readouterr().out
    assert exit_code == 0, out
    clean, noisy = json.loads((workspace / "timeline.json").read_text(encoding="utf-8"))

    assert clean["blessed"] is True
    served = clean["serving_version"]
    assert served is not None

    # Noisy labels keep the balance and the schema, so nothing halts: the span
    # trains and reaches the Evaluator, where its model falls below the floor.
    assert noisy["halted"] is None and noisy["anomalies"] == 0
    assert noisy["accuracy"]["overall"] < 0.6 < clean["accuracy"]["overall"]
    assert noisy["blessed"] is False
    assert any("accuracy" in reason for reason in noisy["not_blessed_because"]), noisy
    assert noisy["serving_version"] == served
    assert model_dir.list_versions(workspace / "serving" / "polarity") == [served]
