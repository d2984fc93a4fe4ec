"""`polarity run` as a child process whose console progress a test can wait for, and kill."""

import contextlib
import os
import pathlib
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
_RUNNING = 2  # metadata_store_pb2.Execution.RUNNING
_RUNNING_OF_TYPE = (
    "SELECT COUNT(*) FROM Execution e JOIN Type t ON e.type_id = t.id "
    "WHERE e.last_known_state = ? AND t.name LIKE ?"
)


def _running(metadata_path: pathlib.Path, component: str) -> bool:
    """Whether ML Metadata holds a RUNNING execution of the component class (read-only, no MLMD client)."""
    if not metadata_path.is_file():
        return False
    try:
        with contextlib.closing(sqlite3.connect(f"file:{metadata_path}?mode=ro", uri=True)) as db:
            return db.execute(_RUNNING_OF_TYPE, (_RUNNING, f"%.{component}")).fetchone()[0] > 0
    except sqlite3.OperationalError:  # the run is writing right now
        return False


class PolarityProcess:
    """A `polarity ...` child in its own process group, its stdout read line by line."""

    def __init__(self, *argv: str):
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "polarity.cli", *argv],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, *words: str, timeout: float = 180) -> str:
        """The first output line holding every word; fails if the process ends first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                raise AssertionError(f"polarity ended before printing {words}:\n" + "\n".join(self.lines))
            self.lines.append(line)
            if all(word in line for word in words):
                return line
        raise AssertionError(f"no line with {words} in {timeout} s:\n" + "\n".join(self.lines))

    def wait_for_running(self, metadata_path: pathlib.Path, component: str, timeout: float = 180) -> None:
        """Waits until ML Metadata records the component's execution as RUNNING.

        ML Metadata, not the console: the progress lines stop once Transform
        starts (Beam takes over the root logger).
        """
        try:
            wait_until_running(metadata_path, component, self.process, timeout)
        except AssertionError as error:
            if self.process.poll() is None:
                raise
            raise AssertionError(f"{error}:\n{self.finish()[1]}") from None

    def kill(self) -> int:
        """SIGKILL to the whole process group, as an OOM killer or a power cut would; the exit code."""
        os.killpg(self.process.pid, signal.SIGKILL)
        return self.process.wait(timeout=60)

    def finish(self, timeout: float = 300) -> tuple[int, str]:
        """Waits for the process to end; its exit code and whole output."""
        code = self.process.wait(timeout=timeout)
        while (line := self._queue.get(timeout=30)) is not None:
            self.lines.append(line)
        return code, "\n".join(self.lines)


def wait_until_running(metadata_path: pathlib.Path, component: str, process, timeout: float = 180) -> None:
    """Waits until ML Metadata records the component's execution as RUNNING, while `process` lives."""
    deadline = time.monotonic() + timeout
    while not _running(metadata_path, component):
        if process.poll() is not None:
            raise AssertionError(f"the process ended (exit {process.returncode}) before {component} ran")
        if time.monotonic() > deadline:
            raise AssertionError(f"{component} did not start in {timeout} s")
        time.sleep(0.2)
