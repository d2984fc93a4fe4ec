"""The dataset contract: which CSV columns hold the text, the label and the slices, and the classes.

Built once from configuration (`polarity.config.DataConfig.contract()`), then passed
down explicitly: to Transform and the Trainer through `custom_config` (so it is part of
what TFX caches on), to the eval config, the drift checks and the CSV checks. No
TensorFlow import here, so the CLI and config can use it cheaply.
"""

import dataclasses
import json
import re

from components.encoder_features import ENCODER_TEXT_KEY

# Names the pipeline gives its transformed features; a raw column may not take them.
RESERVED_COLUMNS = ("ngram_ids", "length_bucket", "class_id", ENCODER_TEXT_KEY)
_COLUMN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


class ContractError(ValueError):
    """A dataset contract that cannot describe a dataset, with what to change."""


@dataclasses.dataclass(frozen=True)
class DatasetContract:
    """What a span's CSV holds and what the model predicts.

    Attributes:
      text_column: the column holding the text to classify.
      label_column: the column holding the class, as a name from `classes` or its
        0-based index.
      classes: the class names in order (two or more); a model's scores follow
        this order.
      slice_columns: categorical columns that evaluation and drift are sliced by.
    """

    text_column: str = "text"
    label_column: str = "label"
    classes: tuple[str, ...] = ("negative", "positive")
    slice_columns: tuple[str, ...] = ("source",)

    def __post_init__(self):
        object.__setattr__(self, "classes", tuple(str(name) for name in self.classes))
        object.__setattr__(self, "slice_columns", tuple(self.slice_columns))
        problems = self.problems()
        if problems:
            raise ContractError("; ".join(problems))

    def problems(self) -> list[str]:
        """Every reason this contract cannot describe a dataset."""
        problems = []
        if len(self.classes) < 2:
            problems.append(f"data.classes: give two or more class names, got {list(self.classes)}")
        if len(set(self.classes)) != len(self.classes):
            problems.append(f"data.classes: class names repeat in {list(self.classes)}")
        if any(not name.strip() for name in self.classes):
            problems.append("data.classes: a class name is empty")
        indices = {str(index) for index in range(len(self.classes))}
        clash = sorted(name for name in self.classes if name.isdigit() and name not in indices)
        if clash:
            problems.append(
                f"data.classes: {clash} look like class indices but are not their own position; "
                "name classes with words, or list them so that name i is 'i'"
            )
        for key, column in self._named_columns():
            if not _COLUMN_NAME.match(column):
                problems.append(f"{key}: {column!r} is not a column name (letters, digits, _ . -)")
            elif column in RESERVED_COLUMNS:
                problems.append(f"{key}: {column!r} is a name the pipeline gives a transformed feature")
        columns = [column for _, column in self._named_columns()]
        if len(set(columns)) != len(columns):
            problems.append(f"data: a column is named twice among text, label and slice columns {columns}")
        return problems

    def _named_columns(self) -> list[tuple[str, str]]:
        return [
            ("data.text_column", self.text_column),
            ("data.label_column", self.label_column),
            *(("data.slice_columns", column) for column in self.slice_columns),
        ]

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns a span's CSV must hold: text, label, then the slice columns."""
        return (self.text_column, self.label_column, *self.slice_columns)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def label_values(self) -> dict[str, int]:
        """Every spelling a label may take in a CSV (a class name or its index) -> class index."""
        values = {str(index): index for index in range(len(self.classes))}
        values.update({name: index for index, name in enumerate(self.classes)})
        return values

    def class_index(self, value) -> int | None:
        """The class index of a CSV label (name or index), or None if it is not a class."""
        return self.label_values().get(str(value).strip())

    def to_dict(self) -> dict:
        return {
            "text_column": self.text_column,
            "label_column": self.label_column,
            "classes": list(self.classes),
            "slice_columns": list(self.slice_columns),
        }

    def to_json(self) -> str:
        """A stable JSON form, for `custom_config` and execution properties."""
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, value: dict) -> "DatasetContract":
        return cls(
            text_column=value["text_column"],
            label_column=value["label_column"],
            classes=tuple(value["classes"]),
            slice_columns=tuple(value.get("slice_columns", ())),
        )

    @classmethod
    def from_json(cls, text: str) -> "DatasetContract":
        return cls.from_dict(json.loads(text))
