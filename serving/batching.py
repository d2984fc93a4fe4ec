"""Server-side dynamic batching, with TF Serving's batching parameters.

Requests for the same version and signature queue up; a batch closes when it
holds max_batch_size rows or batch_timeout_micros passed since its first
request, and runs on one of num_batch_threads. With the default timeout of 0
a batch takes whatever queued while the batch threads were busy, so a lone
request waits for nothing and a loaded server batches by itself. A full queue
(max_enqueued_batches) answers UNAVAILABLE (HTTP 503), as TensorFlow's batch
scheduler does. A request larger than max_batch_size runs as a batch of its own.

The file format is TF Serving's --batching_parameters_file (a BatchingParameters
text proto such as `max_batch_size { value: 64 }`).
"""

import asyncio
import collections
import dataclasses
import pathlib
import re

import numpy as np

from serving.rest_api import ApiError


class QueueFullError(ApiError):
    """The batch queue is full: UNAVAILABLE, which TF Serving's HTTP server answers with 503."""

    def __init__(self, message: str):
        super().__init__("UNAVAILABLE", message)


def batch_rows(arrays: dict) -> int:
    """The rows a request adds to a batch, checked as TF Serving's batching session does.

    Raises:
      ApiError: INVALID_ARGUMENT for a scalar input or inputs of different 0th dimensions.
    """
    rows = None
    for array in arrays.values():
        if array.ndim == 0:
            raise ApiError(
                "INVALID_ARGUMENT", "Batching session Run() input tensors must have at least one dimension"
            )
        if rows is not None and array.shape[0] != rows:
            raise ApiError(
                "INVALID_ARGUMENT", "Batching session Run() input tensors must have equal 0th-dimension size"
            )
        rows = array.shape[0]
    return rows or 0


def _check_outputs(outputs: dict, rows: int) -> None:
    for value in outputs.values():
        if np.ndim(value) == 0:
            raise ApiError("INVALID_ARGUMENT", "Batched output tensor has 0 dimensions")
        if value.shape[0] != rows:
            raise ApiError(
                "INVALID_ARGUMENT",
                "Batched output tensor's 0th dimension does not equal the sum of the 0th dimension "
                "sizes of the input tensors",
            )


@dataclasses.dataclass(frozen=True)
class BatchingParameters:
    """The subset of TF Serving's BatchingParameters that polarity serve honours."""

    max_batch_size: int = 64
    batch_timeout_micros: int = 0
    max_enqueued_batches: int = 64
    num_batch_threads: int = 2

    def __post_init__(self):
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            minimum = 0 if field.name == "batch_timeout_micros" else 1
            if not isinstance(value, int) or value < minimum:
                raise ValueError(
                    f"batching parameter {field.name} must be an integer >= {minimum}, got {value!r}"
                )


_FIELD = re.compile(r"(\w+)\s*:?\s*\{\s*value\s*:\s*(-?\d+)\s*\}")


def parse_batching_parameters(text: str, source: str = "batching parameters") -> BatchingParameters:
    """Reads a BatchingParameters text proto; unknown or malformed fields are errors."""
    known = {field.name for field in dataclasses.fields(BatchingParameters)}
    values = {}
    stripped = re.sub(r"#.*", "", text)
    for name, value in _FIELD.findall(stripped):
        if name not in known:
            raise ValueError(f"{source}: field {name!r} is not supported; use {sorted(known)}")
        values[name] = int(value)
    leftover = _FIELD.sub("", stripped).strip()
    if leftover:
        raise ValueError(
            f"{source}: cannot read {leftover[:60]!r}; expected lines like 'max_batch_size {{ value: 64 }}'"
        )
    try:
        return BatchingParameters(**values)
    except ValueError as error:
        raise ValueError(f"{source}: {error}") from None


def read_batching_parameters(path) -> BatchingParameters:
    path = pathlib.Path(path)
    return parse_batching_parameters(path.read_text(encoding="utf-8"), source=str(path))


@dataclasses.dataclass
class _Task:
    arrays: dict
    rows: int
    future: asyncio.Future
    deadline: float  # loop time by which the batch holding this task must close


class BatchScheduler:
    """Batches calls of one blocking function `run(arrays) -> outputs` on an executor.

    Every output must have the batch dimension first; each caller gets its rows back.
    Batches are started from `submit` and from the end of the previous batch, on the
    event loop, so a request that finds a batch thread free goes to the executor at once.
    """

    def __init__(self, run, params: BatchingParameters, executor, on_batch=None):
        self._run = run
        self._params = params
        self._executor = executor
        self._on_batch = on_batch or (lambda rows: None)
        self._queue: collections.deque = collections.deque()
        self._queued_rows = 0
        self._running = 0
        self._timer: asyncio.Handle | None = None
        self._timer_deadline = 0.0

    def submit(self, arrays: dict, rows: int) -> asyncio.Future:
        """Queues a request (on the running loop); the future holds its rows of the outputs.

        Raises:
          QueueFullError: the queue holds max_enqueued_batches batches already.
        """
        limit = self._params.max_enqueued_batches * self._params.max_batch_size
        if self._queued_rows + rows > limit and self._queue:
            raise QueueFullError(
                f"The batch scheduling queue to which this task was submitted is full "
                f"({self._queued_rows} rows queued, limit {limit}); retry later"
            )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._params.batch_timeout_micros / 1e6
        task = _Task(arrays, rows, loop.create_future(), deadline)
        self._queue.append(task)
        self._queued_rows += rows
        self._start_batches(loop)
        return task.future

    def _start_batches(self, loop) -> None:
        """Starts every batch that may close now; arms a timer for the first one that may not."""
        while self._queue and self._running < self._params.num_batch_threads:
            full = self._queued_rows >= self._params.max_batch_size
            if not full and loop.time() < self._queue[0].deadline:
                self._arm_timer(loop, self._queue[0].deadline)
                return
            batch = self._take_batch()
            if batch:
                self._start(loop, batch)

    def _arm_timer(self, loop, deadline: float) -> None:
        # The deadline is kept here: uvloop rounds timers to milliseconds and, for one
        # due in under a millisecond, call_at returns a plain Handle without when().
        if self._timer is not None and self._timer_deadline <= deadline:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._timer_deadline = loop.call_at(deadline, self._on_timer, loop), deadline

    def _on_timer(self, loop) -> None:
        self._timer = None
        self._start_batches(loop)

    def _take_batch(self) -> list:
        batch = [self._queue.popleft()]
        rows = batch[0].rows
        while self._queue and rows + self._queue[0].rows <= self._params.max_batch_size:
            task = self._queue.popleft()
            batch.append(task)
            rows += task.rows
        self._queued_rows -= rows
        return [task for task in batch if not task.future.cancelled()]

    def _start(self, loop, batch: list) -> None:
        self._running += 1
        arrays = _concatenate([task.arrays for task in batch])
        self._on_batch(sum(task.rows for task in batch))
        future = loop.run_in_executor(self._executor, self._run, arrays)
        future.add_done_callback(lambda done: self._finish(loop, batch, done))

    def _finish(self, loop, batch: list, done: asyncio.Future) -> None:
        self._running -= 1
        error = None if done.cancelled() else done.exception()
        if error is None and not done.cancelled():
            try:
                _check_outputs(done.result(), sum(task.rows for task in batch))
            except ApiError as bad_outputs:
                error = bad_outputs
        start = 0
        for task in batch:
            if task.future.done():
                start += task.rows
                continue
            if done.cancelled():
                task.future.cancel()
            elif error is not None:
                task.future.set_exception(error)
            else:
                task.future.set_result(
                    {name: value[start : start + task.rows] for name, value in done.result().items()}
                )
            start += task.rows
        self._start_batches(loop)

    def close(self) -> None:
        """Cancels what is still queued; batches already running finish."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._queue:
            self._queue.popleft().future.cancel()
        self._queued_rows = 0


def _concatenate(requests: list) -> dict:
    if len(requests) == 1:
        return requests[0]
    return {name: np.concatenate([arrays[name] for arrays in requests], axis=0) for name in requests[0]}
