"""Span discovery: the span and files `data.span_pattern` gives, the same as TFX's CsvExampleGen finds."""

import glob as glob_module
import pathlib

import pytest

from polarity.spans import find_spans, span_glob

LAYOUTS = {  # case -> (data.span_pattern, files under data.root, the newest span, its files)
    "span folders": (
        "span-{SPAN}/*.csv",
        ["span-1/a.csv", "span-2/a.csv", "span-10/a.csv", "span-10/b.csv"],
        10,
        ["span-10/a.csv", "span-10/b.csv"],
    ),
    "span in the file name": (
        "exports/{SPAN}.csv",
        ["exports/3.csv", "exports/12.csv"],
        12,
        ["exports/12.csv"],
    ),
    "partition folders": (
        "day={SPAN}/part-*.csv",
        ["day=20240101/part-0.csv", "day=20240102/part-0.csv", "day=20240102/part-1.csv"],
        20240102,
        ["day=20240102/part-0.csv", "day=20240102/part-1.csv"],
    ),
    "zero padded": ("span-{SPAN}/*.csv", ["span-007/a.csv", "span-6/a.csv"], 7, ["span-007/a.csv"]),
}


def make_files(root: pathlib.Path, names: list[str]) -> None:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("text,label,source\n", encoding="utf-8")


def csv_example_gen_span(root: pathlib.Path, pattern: str) -> tuple[int, list[pathlib.Path]]:
    """The span TFX's CsvExampleGen driver picks for `pattern`, and the files it then reads."""
    from tfx.components.example_gen import utils
    from tfx.proto import example_gen_pb2

    split = example_gen_pb2.Input.Split(name="single_split", pattern=pattern)
    _, span, _ = utils.calculate_splits_fingerprint_span_and_version(str(root), [split])
    return span, sorted(root.glob(split.pattern))


@pytest.mark.parametrize("case", sorted(LAYOUTS))
def test_the_newest_span_and_its_files_are_those_csv_example_gen_reads(tmp_path, case):
    pattern, names, newest, newest_names = LAYOUTS[case]
    make_files(tmp_path, names)
    found = find_spans(tmp_path, pattern)
    assert found.problems == ()
    assert (found.latest, found.spans[newest]) == (newest, tuple(tmp_path / name for name in newest_names))
    assert csv_example_gen_span(tmp_path, pattern) == (newest, list(found.spans[newest]))


def test_a_matched_file_without_a_span_number_is_a_problem_as_in_csv_example_gen(tmp_path):
    make_files(tmp_path, ["span-1/a.csv", "span-old/a.csv"])
    found = find_spans(tmp_path, "span-{SPAN}/*.csv")
    assert found.spans == {1: (tmp_path / "span-1/a.csv",)}
    assert found.problems == (
        f"{tmp_path / 'span-old/a.csv'}: data.span_pattern 'span-{{SPAN}}/*.csv' matches this file but "
        f"'old' is not a span number, and CsvExampleGen stops on it; move the file out of {tmp_path} or "
        "make data.span_pattern narrower",
    )
    with pytest.raises(ValueError, match="Cannot find span number"):
        csv_example_gen_span(tmp_path, "span-{SPAN}/*.csv")


def test_a_span_spelled_two_ways_is_a_problem(tmp_path):
    make_files(tmp_path, ["span-7/a.csv", "span-07/a.csv"])
    assert find_spans(tmp_path, "span-{SPAN}/*.csv").problems == (
        f"span 7 is spelled 2 ways (07, 7) under {tmp_path}; CsvExampleGen reads only one of them; "
        "give each span one spelling",
    )


def test_a_pattern_with_two_span_placeholders_is_a_problem(tmp_path):
    make_files(tmp_path, ["span-2/part-2.csv"])
    found = find_spans(tmp_path, "span-{SPAN}/part-{SPAN}.csv")
    assert found.latest == 2
    assert found.problems == (
        "data.span_pattern 'span-{SPAN}/part-{SPAN}.csv' holds {SPAN} 2 times; CsvExampleGen accepts "
        "exactly one, e.g. 'span-{SPAN}/*.csv'",
    )


def test_folders_without_matching_files_and_a_missing_root_hold_no_span(tmp_path):
    (tmp_path / "span-3").mkdir()
    make_files(tmp_path, ["span-2/notes.txt"])
    assert find_spans(tmp_path, "span-{SPAN}/*.csv").latest is None
    assert find_spans(tmp_path / "missing", "span-{SPAN}/*.csv").spans == {}


@pytest.mark.parametrize("case", sorted(LAYOUTS))
def test_the_span_glob_matches_exactly_the_newest_spans_files_as_spelled(tmp_path, case):
    pattern, names, newest, newest_names = LAYOUTS[case]
    make_files(tmp_path, names)
    glob = span_glob(tmp_path, pattern, newest)
    assert sorted(pathlib.Path(p) for p in glob_module.glob(glob)) == [tmp_path / n for n in newest_names]
    assert span_glob(tmp_path, pattern, 999) is None
