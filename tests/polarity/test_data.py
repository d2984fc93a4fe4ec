"""The data command: clean, deterministic spans of the bundled reviews."""

import collections
import csv

import pytest

from polarity import data

# The bundled reviews' columns, as the default dataset contract names them.
TEXT = data.BUNDLED_CONTRACT.text_column
LABEL = data.BUNDLED_CONTRACT.label_column
SOURCE = data.BUNDLED_CONTRACT.slice_columns[0]


@pytest.fixture(scope="module")
def reviews():
    return data.read_reviews()


def test_bundled_corpus_is_imdb_and_rotten_tomatoes_balanced(reviews):
    counts = collections.Counter((row[SOURCE], row[LABEL]) for row in reviews)
    assert counts == {
        ("imdb", "0"): 12500, ("imdb", "1"): 12500,
        ("rotten_tomatoes", "0"): 4265, ("rotten_tomatoes", "1"): 4265,
    }  # fmt: skip


def test_clean_text_removes_html_and_puts_text_on_one_line():
    assert data.clean_text("Good.<br /><br />Very  good &amp; fun\nreally") == "Good. Very good & fun really"


def test_no_html_or_newline_survives_cleaning(reviews):
    assert not [row for row in reviews if "<br" in row[TEXT] or "\n" in row[TEXT]]


def test_spans_are_deterministic_for_a_seed_and_differ_across_seeds(reviews):
    first = data.split_spans(reviews, 3, seed=5, limit=300)
    assert first == data.split_spans(reviews, 3, seed=5, limit=300)
    assert first != data.split_spans(reviews, 3, seed=6, limit=300)
    assert [len(span) for span in first] == [100, 100, 100]


def test_by_source_order_puts_imdb_spans_before_rotten_tomatoes(reviews):
    spans = data.split_spans(reviews, 4, order="by-source")
    assert {row[SOURCE] for row in spans[0]} == {"imdb"}
    assert {row[SOURCE] for row in spans[-1]} == {"rotten_tomatoes"}


def test_prepare_spans_writes_csv_files_with_the_source_column(tmp_path):
    summaries = data.prepare_spans(tmp_path / "data", tmp_path / "golden", spans=2, limit=50)
    assert summaries == [
        {"span": 1, "rows": 25, "state": "written"},
        {"span": 2, "rows": 25, "state": "written"},
    ]
    with open(tmp_path / "data" / "span-2" / data.SPAN_FILE, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 25 and set(rows[0]) == set(data.COLUMNS)
    assert data.latest_span(tmp_path / "data") == 2


def test_latest_span_follows_the_span_pattern(tmp_path):
    for name in ("exports/3.csv", "exports/12.csv", "span-40/notes.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("text,label,source\n", encoding="utf-8")
    (tmp_path / "span-50").mkdir()
    assert data.latest_span(tmp_path, "exports/{SPAN}.csv") == 12
    assert data.latest_span(tmp_path) is None  # span-N/*.csv: no file matches


def test_rewriting_the_same_span_leaves_the_file_untouched(tmp_path):
    data.prepare_spans(tmp_path / "data", tmp_path / "golden", limit=40)
    path = tmp_path / "data" / "span-1" / data.SPAN_FILE
    mtime = path.stat().st_mtime_ns
    assert data.prepare_spans(tmp_path / "data", tmp_path / "golden", limit=40)[0]["state"] == "unchanged"
    assert path.stat().st_mtime_ns == mtime


def test_other_content_for_an_existing_span_is_refused_without_force(tmp_path):
    data.prepare_spans(tmp_path / "data", tmp_path / "golden", limit=40)
    original = (tmp_path / "data" / "span-1" / data.SPAN_FILE).read_bytes()
    with pytest.raises(data.DataError, match="already exists with other content"):
        data.prepare_spans(tmp_path / "data", tmp_path / "golden", limit=40, seed=1)
    assert (tmp_path / "data" / "span-1" / data.SPAN_FILE).read_bytes() == original
    assert (
        data.prepare_spans(tmp_path / "data", tmp_path / "golden", limit=40, seed=1, force=True)[0]["state"]
        == "written"
    )


def test_a_csv_without_the_expected_columns_is_rejected(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text("review,label\nnice,1\n", encoding="utf-8")
    with pytest.raises(data.DataError, match=r"missing column\(s\) \['text', 'source'\]"):
        data.read_reviews(path)


def test_too_few_rows_for_the_spans_asked_is_an_error(reviews):
    with pytest.raises(data.DataError, match="cannot make 5 spans"):
        data.split_spans(reviews, 5, limit=3)


def test_golden_set_is_fixed_balanced_and_held_out_of_every_span(tmp_path, reviews):
    data.prepare_spans(tmp_path / "data", tmp_path / "golden", spans=2, seed=3)
    with open(tmp_path / "golden" / data.SPAN_FILE, newline="", encoding="utf-8") as handle:
        golden = list(csv.DictReader(handle))
    counts = collections.Counter(row[SOURCE] for row in golden)
    assert counts == {"imdb": data.GOLDEN_ROWS_PER_SOURCE, "rotten_tomatoes": data.GOLDEN_ROWS_PER_SOURCE}
    span_rows = 0
    for span in (1, 2):
        path = tmp_path / "data" / f"span-{span}" / data.SPAN_FILE
        with open(path, newline="", encoding="utf-8") as handle:
            span_rows += len(list(csv.DictReader(handle)))
    assert span_rows + len(golden) == len(reviews)
    held_out, rest = data.split_golden(reviews)
    assert len(held_out) + len(rest) == len(reviews)
    assert [row[TEXT] for row in held_out] == [row[TEXT] for row in golden]
