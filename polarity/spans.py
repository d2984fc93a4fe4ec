"""Where a run's spans are: the files `data.span_pattern` matches under `data.root`, by span.

This follows TFX 1.16's CsvExampleGen (`tfx/components/example_gen/utils.py`):
`{SPAN}` becomes `*` in a glob, every file the glob matches must carry a number
where `{SPAN}` stands (or CsvExampleGen stops the run), and the highest number
is the span it reads. `{SPAN}` may stand in a folder or a file name:
`span-{SPAN}/*.csv`, `exports/{SPAN}.csv`, `day={SPAN}/part-*.csv`.
"""

import dataclasses
import pathlib
import re

SPAN_SPEC = "{SPAN}"
DEFAULT_SPAN_PATTERN = "span-{SPAN}/*.csv"
# The golden set's files under data.golden_root (GoldenExampleGen reads the same glob).
GOLDEN_PATTERN = "*.csv"


@dataclasses.dataclass(frozen=True)
class SpanFiles:
    """The files a span pattern matches, by span number.

    Attributes:
      spans: span number -> its files, sorted.
      problems: why CsvExampleGen would stop on this folder (a matched file
        without a span number, a span spelled two ways, a pattern it refuses),
        each with what to do.
    """

    spans: dict[int, tuple[pathlib.Path, ...]]
    problems: tuple[str, ...] = ()

    @property
    def latest(self) -> int | None:
        """The highest span number, or None when no file matches."""
        return max(self.spans, default=None)


def _pattern_regex(pattern: str) -> re.Pattern:
    """A regex for paths relative to the root, capturing what stands where `{SPAN}` is."""
    parts = []
    for index, piece in enumerate(pattern.split(SPAN_SPEC)):
        if index == 1:
            parts.append(r"(?P<span>[^/]*)")
        elif index > 1:
            parts.append(r"(?P=span)")
        parts.append(re.escape(piece).replace(r"\*", "[^/]*").replace(r"\?", "[^/]"))
    return re.compile("".join(parts))


def find_spans(data_root: pathlib.Path, pattern: str = DEFAULT_SPAN_PATTERN) -> SpanFiles:
    """Finds every span under `data_root` that `pattern` describes.

    Args:
      data_root: the folder the pattern is relative to (`data.root`).
      pattern: a glob with one `{SPAN}`, e.g. "span-{SPAN}/*.csv" (`data.span_pattern`).

    Returns:
      The files by span number, and the problems CsvExampleGen would stop on.
    """
    root = pathlib.Path(data_root)
    problems = []
    if pattern.count(SPAN_SPEC) != 1:
        problems.append(
            f"data.span_pattern {pattern!r} holds {SPAN_SPEC} {pattern.count(SPAN_SPEC)} times; "
            f"CsvExampleGen accepts exactly one, e.g. {DEFAULT_SPAN_PATTERN!r}"
        )
    regex = _pattern_regex(pattern)
    tokens: dict[int, dict[str, list[pathlib.Path]]] = {}
    if root.is_dir():
        for path in sorted(root.glob(pattern.replace(SPAN_SPEC, "*"))):
            if not path.is_file():
                continue
            match = regex.fullmatch(path.relative_to(root).as_posix())
            token = match.group("span") if match else ""
            if not token.isdigit():
                problems.append(
                    f"{path}: data.span_pattern {pattern!r} matches this file but {token!r} is not a "
                    "span number, and CsvExampleGen stops on it; move the file out of "
                    f"{root} or make data.span_pattern narrower"
                )
                continue
            tokens.setdefault(int(token), {}).setdefault(token, []).append(path)
    for span, spellings in tokens.items():
        if len(spellings) > 1:
            problems.append(
                f"span {span} is spelled {len(spellings)} ways ({', '.join(sorted(spellings))}) under "
                f"{root}; CsvExampleGen reads only one of them; give each span one spelling"
            )
    spans = {
        span: tuple(sorted(p for paths in spellings.values() for p in paths))
        for span, spellings in tokens.items()
    }
    return SpanFiles(spans=spans, problems=tuple(problems))


def span_glob(data_root: pathlib.Path, pattern: str, span: int) -> str | None:
    """The glob of one span's files as they are spelled under `data_root` (`007` stays
    `007`), or None when no file of that span matches `pattern`."""
    root = pathlib.Path(data_root)
    files = find_spans(root, pattern).spans.get(span)
    if not files:
        return None
    token = _pattern_regex(pattern).fullmatch(files[0].relative_to(root).as_posix()).group("span")
    return str(root / pattern.replace(SPAN_SPEC, token))
