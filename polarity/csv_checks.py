"""Preflight of the CSV files a run reads: refuse what CsvExampleGen cannot read right, before it runs.

What TFX 1.16's CsvExampleGen does with the files real exports produce (each tried
on real files through its Beam transform in tests/polarity/test_csv_checks.py):

- a quoted field holding line breaks (LF, CRLF or CR): read as one field; allowed.
- CRLF line ends, blank lines, no line end after the last row: read right; allowed.
- a UTF-8 byte order mark: kept in the first column name ("\\ufefftext"); refused.
- a header with quotes or spaces around names: kept in the names; refused.
- a carriage return outside quotes that ends no line: stops with "new-line
  character seen in unquoted field"; a file with CR line ends (old Mac) reads as
  one header line and no rows, silently; refused.
- a double quote inside an unquoted field: quotes are paired across lines, so rows
  run together, the read stops with "unbalanced quotes", or it never ends; refused.
- a NUL byte: Python 3.10's csv reader (TFX 1.16) stops with "line contains NUL";
  from 3.11 (TFX 1.21) the byte stays in the text; refused on both stacks alike.
- a row with more or fewer fields than the header, files of a span with different
  headers: the read stops without naming the file or line; refused.
- bytes that are not UTF-8: the read stops with a bare decoding error; refused.

The dataset contract adds: the header holds exactly its columns, each label is a
class name or index, and no text is empty. Files are only read, never changed.
"""

import collections
import csv
import dataclasses
import pathlib
from collections.abc import Iterable, Iterator

from components.contract import DatasetContract
from polarity import spans

# At most this many problems of one kind are listed; the rest are counted.
MAX_SHOWN_PER_KIND = 10
GOLDEN_PATTERN = spans.GOLDEN_PATTERN

# Each kind of problem and how the "... and N more" line names it.
KINDS = {
    "spans": "problems finding the span's files",
    "golden": "problems finding the golden set's files",
    "read": "files that cannot be read",
    "encoding": "lines that are not UTF-8",
    "bom": "files that start with a byte order mark",
    "header": "header problems",
    "line-end": "carriage returns outside quotes",
    "nul": "lines holding a NUL byte",
    "csv": "lines the CSV reader cannot parse",
    "quotes": "rows with unpaired double quotes",
    "fields": "rows with the wrong number of fields",
    "label": "rows whose label is not a class",
    "empty-text": "rows with an empty text",
}

_BOM = "\ufeff"
_OTHER_DELIMITERS = (";", "\t", "|")
_CSV_ERRORS = {  # start of a Python csv error (CsvExampleGen's reader raises it too) -> kind, advice
    "new-line character seen in unquoted field": (
        "line-end",
        "a carriage return (\\r) outside double quotes ends no line here (old Mac line ends, or a "
        "stray break in a field); CsvExampleGen stops on it with 'new-line character seen in "
        "unquoted field'; end lines with \\n or \\r\\n and quote fields holding line breaks, "
        "e.g. tr '\\r' '\\n' < FILE > FIXED.csv for a file with \\r line ends",
    ),
}
_NUL_ADVICE = (
    "a NUL byte (\\x00), which CsvExampleGen cannot read on TFX 1.16 (Python 3.10's csv reader stops "
    "on it) and keeps inside the text on TFX 1.21; remove NUL bytes, e.g. tr -d '\\000' < FILE > FIXED.csv"
)
_QUOTE_ADVICE = (
    "a double quote here is not paired as CSV needs it; CsvExampleGen pairs double quotes across "
    "lines, so it would run this row into the next ones or stop with 'unbalanced quotes'; put a "
    'field holding a double quote in double quotes and double the quote inside, e.g. "a 5"" screen"'
)


class Findings:
    """Problems by kind: the first MAX_SHOWN_PER_KIND of each kind in full, the rest counted."""

    def __init__(self, shown_per_kind: int = MAX_SHOWN_PER_KIND):
        self._shown_per_kind = shown_per_kind
        self._shown: dict[str, list[str]] = collections.defaultdict(list)
        self._counts: collections.Counter = collections.Counter()

    def add(self, kind: str, where: str, message: str) -> None:
        """Notes one problem: `kind` from KINDS, `where` a file (and line), `message` what to do."""
        self.add_line(kind, f"{where}: {message}")

    def add_line(self, kind: str, line: str) -> None:
        """Notes one problem already written out in full, place included."""
        self._counts[kind] += 1
        if len(self._shown[kind]) < self._shown_per_kind:
            self._shown[kind].append(line)

    def count(self, kind: str) -> int:
        return self._counts[kind]

    def lines(self) -> list[str]:
        """The problems to show, kind by kind in the order first met, each kind's count last."""
        lines = []
        for kind, shown in self._shown.items():
            lines.extend(shown)
            if self._counts[kind] > len(shown):
                lines.append(f"... and {self._counts[kind] - len(shown)} more {KINDS[kind]}")
        return lines


class _LineTap:
    """Hands a file's lines to csv.reader split as CsvExampleGen splits them (at \\n only).

    It decodes each line as UTF-8, noting bytes that are not, notes NUL bytes and
    hands the line on without them (Python 3.10's csv.reader stops on them, 3.11's
    reads them: both stacks see the same rows), and keeps the number of double
    quotes on each line of the record being read, which csv.reader does not tell.
    """

    def __init__(self, handle: Iterable[bytes], path: pathlib.Path, findings: Findings):
        self._lines = iter(handle)
        self._path = path
        self._findings = findings
        self.number = 0
        self.first_line = ""
        self.quotes: list[int] = []

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        raw = next(self._lines)
        self.number += 1
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            self._findings.add(
                "encoding",
                f"{self._path} line {self.number}",
                f"byte 0x{raw[error.start]:02x} at column {error.start + 1} is not UTF-8; "
                "save the file as UTF-8",
            )
            line = raw.decode("utf-8", errors="replace")
        if "\x00" in line:
            self._findings.add("nul", f"{self._path} line {self.number}", _NUL_ADVICE)
            line = line.replace("\x00", "")
        if self.number == 1:
            self.first_line = line
        self.quotes.append(line.count('"'))
        return line


def _quotes_paired(counts: list[int]) -> bool:
    """Whether CsvExampleGen, which groups lines until their double quotes are even, ends the row here too."""
    total = 0
    for count in counts[:-1]:
        total += count
        if total % 2 == 0:
            return False
    return (total + counts[-1]) % 2 == 0


def _report_csv_error(error: csv.Error, where: str, findings: Findings) -> None:
    for start, (kind, advice) in _CSV_ERRORS.items():
        if str(error).startswith(start):
            findings.add(kind, where, advice)
            return
    findings.add("csv", where, f"the CSV reader CsvExampleGen uses fails here: {error}")


def _check_header(
    path: pathlib.Path, header: list[str], first_line: str, contract: DatasetContract, findings: Findings
) -> list[str] | None:
    """Checks the header against what CsvExampleGen reads and the contract.

    Returns:
      The column names, or None when the rows cannot be checked against them.
    """
    where = f"{path} line 1"
    if header and header[0].startswith(_BOM):
        findings.add(
            "bom",
            where,
            "the file starts with a UTF-8 byte order mark (BOM), which CsvExampleGen keeps as part of "
            f"the first column name ({header[0]!r}); save it as UTF-8 without BOM, "
            "e.g. tail -c +4 FILE > FIXED.csv",
        )
        header = [header[0][len(_BOM) :], *header[1:]]
    names = [name.strip() for name in header]
    as_read = first_line.removeprefix(_BOM).strip().split(",")  # CsvExampleGen's own header parsing
    expected = ",".join(contract.columns)
    other = next((mark for mark in _OTHER_DELIMITERS if len(names) == 1 and mark in names[0]), None)
    if other:
        findings.add(
            "header",
            where,
            f"the header {names[0]!r} has no comma but {other!r}; CsvExampleGen reads only "
            f"comma-separated files; export the file with commas, e.g. with the header {expected}",
        )
        return None
    if as_read != names:
        findings.add(
            "header",
            where,
            "CsvExampleGen splits the header line at each comma and keeps quotes and spaces in the "
            f"names, so it reads the columns as {as_read}; write the header as plain names, "
            f"e.g. {','.join(names)}",
        )
    repeated = sorted(name for name, count in collections.Counter(names).items() if count > 1)
    if repeated:
        findings.add("header", where, f"column(s) {repeated} appear more than once; keep one of each")
    missing = [column for column in contract.columns if column not in names]
    if missing:
        findings.add(
            "header",
            where,
            f"column(s) {missing} missing from the header {','.join(names)}; the dataset contract "
            f"(data.text_column, data.label_column, data.slice_columns) needs {expected}; add them, "
            "or set those keys to the file's column names",
        )
    extra = [name for name in names if name not in contract.columns]
    if extra:
        findings.add(
            "header",
            where,
            f"column(s) {extra} are not in the dataset contract ({expected}); remove them from the "
            "file, or list categorical ones in data.slice_columns",
        )
    return names


def _check_row(
    row: list[str], names: list[str], where: str, lines: str, contract: DatasetContract, findings: Findings
) -> None:
    """Checks one row's field count, label and text."""
    if len(row) != len(names):
        advice = (
            "a field holding a comma must be in double quotes"
            if len(row) > len(names)
            else "fill in the missing fields"
        )
        findings.add(
            "fields",
            where,
            f"{len(row)} fields where the header has {len(names)} ({','.join(names)}){lines}; {advice}",
        )
        return
    fields = dict(zip(names, row, strict=True))
    label = fields.get(contract.label_column)
    if label is not None and contract.class_index(label) is None:
        findings.add(
            "label",
            where,
            f"label {label!r} in column {contract.label_column!r} is not a class; write one of "
            f"{', '.join(contract.classes)} or its index 0 to {contract.num_classes - 1} (data.classes)",
        )
    text = fields.get(contract.text_column)
    if text is not None and not text.strip():
        findings.add(
            "empty-text",
            where,
            f"the text in column {contract.text_column!r} is empty; fill it in or remove the row",
        )


def _check_rows(
    path: pathlib.Path,
    reader,
    tap: _LineTap,
    names: list[str],
    contract: DatasetContract,
    findings: Findings,
) -> None:
    """Reads the rows after the header in one pass, checking each."""
    start = tap.number + 1
    while True:
        tap.quotes = []
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            _report_csv_error(error, f"{path} line {tap.number}", findings)
            start = tap.number + 1
            continue
        where = f"{path} line {start}"
        lines = f" (the row runs from line {start} to {tap.number})" if tap.number > start else ""
        if not _quotes_paired(tap.quotes):
            findings.add("quotes", where, _QUOTE_ADVICE)  # CsvExampleGen would not see this row
        elif row:  # CsvExampleGen skips blank lines
            _check_row(row, names, where, lines, contract, findings)
        start = tap.number + 1


def check_file(path: pathlib.Path, contract: DatasetContract, findings: Findings) -> list[str] | None:
    """Checks one CSV file in one streaming pass; problems go to `findings`.

    Args:
      path: the CSV file.
      contract: the dataset contract its header and rows must follow.
      findings: where problems are noted.

    Returns:
      The header line as CsvExampleGen reads it (its names split at commas), or
      None for a file without one.
    """
    path = pathlib.Path(path)
    try:
        handle = open(path, "rb")
    except OSError as error:
        findings.add("read", str(path), f"cannot be read ({error.strerror}); make it a readable file")
        return None
    with handle:
        tap = _LineTap(handle, path, findings)
        reader = csv.reader(tap)
        try:
            header = next(reader)
        except StopIteration:
            findings.add(
                "header",
                str(path),
                f"the file is empty; it needs a header line ({','.join(contract.columns)})",
            )
            return None
        except csv.Error as error:
            _report_csv_error(error, f"{path} line {tap.number}", findings)
            return None
        if not _quotes_paired(tap.quotes):
            findings.add("quotes", f"{path} line 1", _QUOTE_ADVICE)
        names = _check_header(path, header, tap.first_line, contract, findings)
        if names is not None:
            _check_rows(path, reader, tap, names, contract, findings)
    return tap.first_line.strip().split(",")


def check_files(paths: Iterable[pathlib.Path], contract: DatasetContract, findings: Findings) -> None:
    """Checks the files one CsvExampleGen reads: each file, and one header for all of them."""
    first = None
    for path in paths:
        header = check_file(path, contract, findings)
        if header is None:
            continue
        if first is None:
            first = (path, header)
        elif header != first[1]:
            findings.add(
                "header",
                f"{path} line 1",
                f"the header {','.join(header)} differs from {first[0]}'s {','.join(first[1])}; "
                "CsvExampleGen needs every file it reads together to have the same header, in the same order",
            )


def check_csv_file(path: pathlib.Path, contract: DatasetContract) -> list[str]:
    """The problems of one CSV file, as lines to show (at most MAX_SHOWN_PER_KIND of a kind)."""
    findings = Findings()
    check_file(path, contract, findings)
    return findings.lines()


@dataclasses.dataclass(frozen=True)
class InputCheck:
    """What a run would read, and why it cannot start.

    Attributes:
      span: the newest span, which CsvExampleGen would read; None if there is none.
      files: the files checked: the span's, then the golden set's.
      problems: each with its file, line and what to do; empty when the run can start.
    """

    span: int | None
    files: tuple[pathlib.Path, ...]
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def describe(self) -> str:
        """The message that halts a run, listing the problems."""
        listing = "\n".join(f"  - {problem}" for problem in self.problems)
        return (
            f"Run halted before it started, on problems with its input CSV files:\n{listing}\n"
            "No file was changed; fix the files (or the data.* settings) and run again."
        )


def check_run_inputs(
    data_root: pathlib.Path,
    span_pattern: str,
    golden_root: pathlib.Path,
    contract: DatasetContract,
    golden_pattern: str = GOLDEN_PATTERN,
) -> InputCheck:
    """Checks the newest span's files and the golden set's files before a run.

    Args:
      data_root: the folder spans are under (`data.root`).
      span_pattern: the glob of a span's files, with `{SPAN}` (`data.span_pattern`).
      golden_root: the folder of the golden set (`data.golden_root`).
      contract: the dataset contract every file must follow.
      golden_pattern: the glob of the golden set's files under golden_root.

    Returns:
      The span, the files checked and the problems (none when the run can start).
    """
    findings = Findings()
    found = spans.find_spans(data_root, span_pattern)
    for problem in found.problems:
        findings.add_line("spans", problem)
    span_files = found.spans.get(found.latest, ())
    if not span_files:
        findings.add(
            "spans",
            str(data_root),
            f"no file matches data.span_pattern {span_pattern!r}; run `polarity data` to write the "
            "bundled reviews there, or set data.root and data.span_pattern to where your CSV spans are",
        )
    check_files(span_files, contract, findings)
    golden_files = tuple(sorted(pathlib.Path(golden_root).glob(golden_pattern)))
    if not golden_files:
        findings.add(
            "golden",
            str(golden_root),
            f"no {golden_pattern} file holds the golden set; run `polarity data` to write it, "
            "or set data.golden_root to its folder",
        )
    check_files(golden_files, contract, findings)
    return InputCheck(span=found.latest, files=(*span_files, *golden_files), problems=tuple(findings.lines()))
