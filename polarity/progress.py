"""Live progress of a local run: which component is running and how long each took.

LocalDagRunner logs "Component X is running." / "... is finished." through
absl; this handler turns those records into one console line per component,
while the full log goes to a file under the workspace.
"""

import contextlib
import logging
import pathlib
import sys
import time
from collections.abc import Iterator
from typing import TextIO

_RUNNING = "Component %s is running."
_FINISHED = "Component %s is finished."
_LIBRARY_LOGGERS = ("tensorflow", "absl")


class ComponentProgress(logging.Handler):
    """Prints component start/finish lines with durations."""

    def __init__(self, stream: TextIO):
        super().__init__(level=logging.INFO)
        self._stream = stream
        self._started: dict[str, float] = {}
        self.durations: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg not in (_RUNNING, _FINISHED) or not record.args:
            return
        node_id = str(record.args[0])
        if record.msg == _RUNNING:
            self._started[node_id] = time.monotonic()
            self._stream.write(f"  {node_id:<30} running...\n")
        else:
            seconds = time.monotonic() - self._started.get(node_id, time.monotonic())
            self.durations[node_id] = seconds
            self._stream.write(f"  {node_id:<30} done in {seconds:6.1f} s\n")
        self._stream.flush()


def _keep_level(level) -> None:
    """Stands in for Logger.setLevel on the library loggers while a run is captured."""


@contextlib.contextmanager
def capture_run_logs(log_path: pathlib.Path, stream: TextIO | None = None) -> Iterator[ComponentProgress]:
    """Sends every log record to log_path and component progress to stream."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    file_handler = logging.FileHandler(log_path, encoding="utf-8")
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    progress = ComponentProgress(stream or sys.stdout)
    # TensorFlow's logger prints through its own handler: route it to the file too.
    loggers = [root, *(logging.getLogger(name) for name in _LIBRARY_LOGGERS)]
    saved = [(logger, logger.level, list(logger.handlers), logger.propagate) for logger in loggers]
    for logger in loggers:
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.propagate = logger is not root
        logger.setLevel(logging.INFO)
        if logger is not root:
            # A library called during Transform sets absl's level to WARNING, which
            # silenced the runner's progress records; hold the level for the run.
            logger.setLevel = _keep_level
    root.addHandler(file_handler)
    root.addHandler(progress)
    root.setLevel(logging.INFO)
    try:
        yield progress
    finally:
        root.removeHandler(file_handler)
        root.removeHandler(progress)
        file_handler.close()
        for logger, level, handlers, propagate in saved:
            logger.__dict__.pop("setLevel", None)
            for handler in handlers:
                logger.addHandler(handler)
            logger.setLevel(level)
            logger.propagate = propagate
