"""Server-side batching: TF Serving's parameters file, the scheduler, and batching in the live server."""

import asyncio
import concurrent.futures
import pathlib
import re
import threading

import numpy as np
import pytest
from serving_helpers import Http

from components import features
from serving import server
from serving.batching import (
    BatchingParameters,
    BatchScheduler,
    QueueFullError,
    parse_batching_parameters,
    read_batching_parameters,
)

DEPLOY = pathlib.Path(__file__).resolve().parents[2] / "serving" / "deploy"


def test_the_deployed_parameters_file_reads():
    params = read_batching_parameters(DEPLOY / "batching_parameters.txt")
    assert params.max_batch_size == 64 and params.batch_timeout_micros == 2000


@pytest.mark.parametrize(
    "text, message",
    [
        ("max_batch_size { value: 0 }", "max_batch_size must be an integer >= 1"),
        ("allowed_batch_sizes { value: 8 }", "'allowed_batch_sizes' is not supported"),
        ("max_batch_size: 8", "cannot read"),
    ],
)
def test_bad_parameters_are_named(text, message):
    with pytest.raises(ValueError, match=message):
        parse_batching_parameters(text)


@pytest.fixture(params=["asyncio", "uvloop"])
def run_loop(request):
    """asyncio.run on each event loop the server may run on: asyncio's own, and uvloop (the default)."""
    return asyncio.run if request.param == "asyncio" else server.run


def _scheduler_run(run_loop, params, requests, run):
    async def main():
        with concurrent.futures.ThreadPoolExecutor(2) as executor:
            scheduler = BatchScheduler(run, params, executor, on_batch=batches.append)
            outcomes = []  # a future per accepted request, the error for a refused one
            for x in requests:
                try:
                    outcomes.append(scheduler.submit({"x": x}, len(x)))
                except QueueFullError as error:
                    outcomes.append(error)
            accepted = [o for o in outcomes if isinstance(o, asyncio.Future)]
            await asyncio.wait_for(asyncio.gather(*accepted, return_exceptions=True), 30)
            scheduler.close()
            return [o.exception() or o.result() if isinstance(o, asyncio.Future) else o for o in outcomes]

    batches: list = []
    return run_loop(main()), batches


def test_scheduler_merges_requests_and_returns_each_its_rows(run_loop):
    def double(arrays):
        return {"y": arrays["x"] * 2}

    requests = [np.arange(i, i + 1) for i in range(9)] + [np.arange(100, 103)]
    params = BatchingParameters(max_batch_size=4, batch_timeout_micros=50_000, num_batch_threads=1)
    results, batches = _scheduler_run(run_loop, params, requests, double)
    for request, result in zip(requests, results, strict=True):
        np.testing.assert_array_equal(result["y"], request * 2)
    assert sum(batches) == 12 and max(batches) == 4 and len(batches) < len(requests)


def test_scheduler_refuses_work_when_the_queue_is_full(run_loop):
    # The first batch runs on the only thread, the second fills the queue, the third is refused.
    params = BatchingParameters(max_batch_size=2, max_enqueued_batches=1, num_batch_threads=1)
    requests = [np.zeros(2), np.ones(2), np.zeros(1)]
    results, batches = _scheduler_run(run_loop, params, requests, lambda arrays: {"y": arrays["x"]})
    assert isinstance(results[2], QueueFullError) and "queue" in str(results[2])
    np.testing.assert_array_equal(results[0]["y"], np.zeros(2))
    np.testing.assert_array_equal(results[1]["y"], np.ones(2))
    assert batches == [2, 2]


def test_a_full_batch_does_not_wait_for_the_batch_window(run_loop):
    # A request that fills max_batch_size starts at once, however long batch_timeout_micros is.
    params = BatchingParameters(max_batch_size=2, batch_timeout_micros=600_000_000)

    async def main():
        with concurrent.futures.ThreadPoolExecutor(1) as executor:
            scheduler = BatchScheduler(lambda arrays: {"y": arrays["x"] + 1}, params, executor)
            result = await asyncio.wait_for(scheduler.submit({"x": np.zeros(2)}, 2), 10)
            scheduler.close()
            return result

    np.testing.assert_array_equal(run_loop(main())["y"], np.ones(2))


def test_a_partial_batch_runs_when_its_window_closes(run_loop):
    params = BatchingParameters(max_batch_size=8, batch_timeout_micros=20_000)
    results, batches = _scheduler_run(run_loop, params, [np.arange(3)], lambda arrays: {"y": -arrays["x"]})
    np.testing.assert_array_equal(results[0]["y"], -np.arange(3))
    assert batches == [3]


def test_a_batch_window_under_a_millisecond(run_loop):
    # uvloop rounds timers to milliseconds and hands back a plain Handle for a shorter
    # one; a second request arriving while that timer is armed must still batch.
    params = BatchingParameters(max_batch_size=8, batch_timeout_micros=300, num_batch_threads=1)
    requests = [np.arange(i, i + 1) for i in range(3)]
    results, batches = _scheduler_run(run_loop, params, requests, lambda arrays: {"y": arrays["x"] + 1})
    for request, result in zip(requests, results, strict=True):
        np.testing.assert_array_equal(result["y"], request + 1)
    assert sum(batches) == 3


def test_closing_cancels_what_is_queued_and_lets_the_running_batch_finish(run_loop):
    params = BatchingParameters(max_batch_size=1, num_batch_threads=1)
    release = threading.Event()

    def run(arrays):
        release.wait(10)
        return {"y": arrays["x"]}

    async def main():
        with concurrent.futures.ThreadPoolExecutor(1) as executor:
            scheduler = BatchScheduler(run, params, executor)
            running = scheduler.submit({"x": np.ones(1)}, 1)
            queued = scheduler.submit({"x": np.zeros(1)}, 1)
            scheduler.close()
            release.set()
            return await asyncio.wait_for(running, 10), queued

    result, queued = run_loop(main())
    np.testing.assert_array_equal(result["y"], np.ones(1))
    assert queued.cancelled()


def _batch_totals(http: Http) -> tuple:
    _, text = http.get("/monitoring/prometheus/metrics")
    labels = f'model="polarity",signature="{features.PREDICT_TEXT_SIGNATURE}",version="1"'
    count = re.search(rf"polarity_serving_batch_size_count\{{{labels}\}} (\S+)", text)
    total = re.search(rf"polarity_serving_batch_size_sum\{{{labels}\}} (\S+)", text)
    return (float(count.group(1)), float(total.group(1))) if count else (0.0, 0.0)


def test_concurrent_requests_share_model_calls(http):
    before = _batch_totals(http)
    answers = []
    barrier = threading.Barrier(12)

    def client(i):
        barrier.wait()
        body = {"signature_name": features.PREDICT_TEXT_SIGNATURE, "instances": [f"review number {i}"]}
        answers.append(http.post("/v1/models/polarity:predict", body))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [status for status, _ in answers] == [200] * 12
    after = _batch_totals(http)
    calls, rows = after[0] - before[0], after[1] - before[1]
    assert rows == 12 and calls < 12, (calls, rows)
