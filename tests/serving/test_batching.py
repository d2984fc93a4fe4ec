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


def _scheduler_run(params, requests, run):
    async def main():
        with concurrent.futures.ThreadPoolExecutor(2) as executor:
            scheduler = BatchScheduler(run, params, executor, on_batch=batches.append)
            tasks = [asyncio.create_task(scheduler.submit({"x": x}, len(x))) for x in requests]
            results = await asyncio.gather(*tasks, return_exceptions=True)
            scheduler.close()
            return results

    batches: list = []
    return asyncio.run(main()), batches


def test_scheduler_merges_requests_and_returns_each_its_rows():
    def double(arrays):
        return {"y": arrays["x"] * 2}

    requests = [np.arange(i, i + 1) for i in range(9)] + [np.arange(100, 103)]
    params = BatchingParameters(max_batch_size=4, batch_timeout_micros=50_000, num_batch_threads=1)
    results, batches = _scheduler_run(params, requests, double)
    for request, result in zip(requests, results, strict=True):
        np.testing.assert_array_equal(result["y"], request * 2)
    assert sum(batches) == 12 and max(batches) == 4 and len(batches) < len(requests)


def test_scheduler_refuses_work_when_the_queue_is_full():
    params = BatchingParameters(max_batch_size=2, max_enqueued_batches=1, batch_timeout_micros=100_000)
    results, _ = _scheduler_run(params, [np.zeros(2), np.zeros(1)], lambda arrays: {"y": arrays["x"]})
    assert isinstance(results[1], QueueFullError) and "queue" in str(results[1])
    np.testing.assert_array_equal(results[0]["y"], np.zeros(2))


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
