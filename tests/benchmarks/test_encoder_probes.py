"""Unit: issue 16's probes' own arithmetic: the training window cut, and ensembles of kept runs."""

import json
import sys

import numpy as np
import pytest

from benchmarks import kept_runs_probe

needs_encoder_stack = pytest.mark.skipif(
    sys.version_info < (3, 11), reason="the encoder (keras-hub) is installed on the TFX 1.21 stack only"
)

LONG = " ".join(f"opening{n}" for n in range(40)) + " middle " * 200 + "a great, moving film."


@needs_encoder_stack
@pytest.mark.parametrize("window", ["tail", "head_tail"])
def test_a_long_text_is_cut_to_whole_words_that_fill_the_window(window):
    import tensorflow as tf

    from benchmarks.weight_averaging_probe import windowed
    from components import encoder_model

    rows = [(LONG, 1), ("short and sweet", 0)]
    (cut, label), short = windowed(rows, sequence_length=64, window=window, mask_handles_and_links=True)
    assert (label, short) == (1, rows[1])  # a text that fits is kept as it is
    assert cut.endswith("a great, moving film.")  # the closing words are kept
    assert cut.startswith("opening0 ") == (window == "head_tail")
    tokenizer = encoder_model.build_tokenizer(encoder_model.weights_dir(), True)
    pieces = len(tokenizer(tf.constant([cut]))[0])
    # Whole words only, so the window (62 pieces) is filled to within one word's pieces.
    assert 62 - 4 < pieces <= 62
    assert windowed(rows, 64, "head", True) == rows


def _keep(folder, runs, unread, ngrams, truth):
    folder.mkdir()
    classes = np.asarray(["negative", "positive"])
    np.savez(folder / "scored.npz", ngrams=ngrams, unread=unread, classes=classes)
    (folder / "truth.json").write_text(json.dumps(truth), encoding="utf-8")
    for seed, log_odds in runs.items():
        np.save(folder / f"seed-{seed}-log-odds.npy", np.asarray(log_odds, np.float64))


def test_kept_runs_are_scored_alone_and_as_the_mean_of_their_log_odds(tmp_path):
    truth = {"golden_imdb": ["positive", "negative"], "tweets": ["positive", "negative", "positive"]}
    unread = np.array([0.5, 0.5, 0.0, 0.0, 0.0])
    ngrams = np.array([4.0, -4.0, -9.0, 9.0, -9.0])  # read for the long texts only
    _keep(tmp_path / "a", {1: [-1.0, -1.0, 2.0, -1.0, -3.0]}, unread, ngrams, truth)
    _keep(tmp_path / "b", {1: [1.0, 1.0, -1.0, -2.0, 5.0]}, unread, ngrams, truth)
    runs, scored, kept_truth = kept_runs_probe.kept_runs([tmp_path / "a", tmp_path / "b"])
    assert sorted(runs) == ["a/seed-1", "b/seed-1"] and kept_truth == truth
    alone = kept_runs_probe.score(runs["a/seed-1"], scored, truth)
    # Long texts: 0.5 * n-grams + 0.5 * encoder (1.5 and -2.5), both right; tweets: 2 of 3.
    assert alone["golden_imdb"] == 1.0
    assert alone["tweets"] == pytest.approx(0.75)  # recall 1/2 positive, 1/1 negative
    both = kept_runs_probe.score(np.mean([runs["a/seed-1"], runs["b/seed-1"]], axis=0), scored, truth)
    assert both["tweets"] == 1.0  # means 0.5, -1.5, 1.0: each tweet right
    assert not both["targets_met"]  # no golden RT here, so no target is met in full


def test_runs_kept_on_other_rows_are_refused(tmp_path):
    truth = {"tweets": ["positive", "negative"]}
    _keep(tmp_path / "a", {1: [1.0, -1.0]}, np.zeros(2), np.zeros(2), truth)
    _keep(tmp_path / "b", {1: [1.0, -1.0]}, np.zeros(2), np.zeros(2), {"tweets": ["negative", "positive"]})
    with pytest.raises(SystemExit, match="other rows"):
        kept_runs_probe.kept_runs([tmp_path / "a", tmp_path / "b"])
