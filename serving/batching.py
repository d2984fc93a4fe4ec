"""Server-side dynamic batching, with TF Serving's batching parameters.

Requests for the same version and signature queue up; a batch closes when it
holds max_batch_size rows or batch_timeout_micros passed since its first
request, and runs on one of num_batch_threads. With the default timeout of 0
a batch takes whatever queued while the batch threads were busy, so a lone
request waits for nothing and a loaded server batches by itself. A full queue
(max_enqueued_batches) answers RESOURCE_EXHAUSTED, as TF Serving does. A
request larger than max_batch_size runs as a batch of its own.

The file format is TF Serving's --batching_parameters_file (a BatchingParameters
text proto such as `max_batch_size { value: 64 }`).
"""

import asyncio
import collections
import dataclasses
import pathlib
import re
import time

import numpy as np


class QueueFullError(RuntimeError):
    """The batch queue is full (TF Serving: RESOURCE_EXHAUSTED, HTTP 429)."""


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
    enqueued: float


class BatchScheduler:
    """Batches calls of one blocking function `run(arrays) -> outputs` on an executor.

    Every output must have the batch dimension first; each caller gets its rows back.
    """

    def __init__(self, run, params: BatchingParameters, executor, on_batch=None):
        self._run = run
        self._params = params
        self._executor = executor
        self._on_batch = on_batch or (lambda rows: None)
        self._queue: collections.deque = collections.deque()
        self._queued_rows = 0
        self._wakeup = asyncio.Event()
        self._slots = asyncio.Semaphore(params.num_batch_threads)
        self._worker: asyncio.Task | None = None

    async def submit(self, arrays: dict, rows: int) -> dict:
        limit = self._params.max_enqueued_batches * self._params.max_batch_size
        if self._queued_rows + rows > limit and self._queue:
            raise QueueFullError(
                f"The batch scheduling queue to which this task was submitted is full "
                f"({self._queued_rows} rows queued, limit {limit}); retry later"
            )
        loop = asyncio.get_running_loop()
        task = _Task(arrays, rows, loop.create_future(), time.perf_counter())
        self._queue.append(task)
        self._queued_rows += rows
        self._wakeup.set()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._batches())
        return await task.future

    async def _wait_for_more(self) -> None:
        timeout = self._params.batch_timeout_micros / 1e6
        deadline = self._queue[0].enqueued + timeout
        while self._queued_rows < self._params.max_batch_size:
            left = deadline - time.perf_counter()
            if left <= 0:
                return
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), left)
            except asyncio.TimeoutError:
                return

    def _take_batch(self) -> list:
        batch = [self._queue.popleft()]
        rows = batch[0].rows
        while self._queue and rows + self._queue[0].rows <= self._params.max_batch_size:
            task = self._queue.popleft()
            batch.append(task)
            rows += task.rows
        self._queued_rows -= rows
        return [task for task in batch if not task.future.cancelled()]

    async def _batches(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._slots.acquire()
            while not self._queue:
                self._wakeup.clear()
                await self._wakeup.wait()
            if self._params.batch_timeout_micros:
                await self._wait_for_more()
            batch = self._take_batch()
            if not batch:
                self._slots.release()
                continue
            arrays = _concatenate([task.arrays for task in batch])
            self._on_batch(sum(task.rows for task in batch))
            future = loop.run_in_executor(self._executor, self._run, arrays)
            future.add_done_callback(lambda done, batch=batch: self._finish(batch, done))

    def _finish(self, batch: list, done: asyncio.Future) -> None:
        self._slots.release()
        error = done.exception()
        start = 0
        for task in batch:
            if task.future.done():
                start += task.rows
                continue
            if error is not None:
                task.future.set_exception(error)
                continue
            task.future.set_result(
                {name: value[start : start + task.rows] for name, value in done.result().items()}
            )
            start += task.rows

    def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()


def _concatenate(requests: list) -> dict:
    if len(requests) == 1:
        return requests[0]
    return {name: np.concatenate([arrays[name] for arrays in requests], axis=0) for name in requests[0]}
