"""Cost of one explanation of a 200-word review: in-process and through `:explain`.

    python -m benchmarks.explain_bench --model-dir workspace/serving/polarity/<version> \\
        --output benchmarks/results/explain.json

--model-dir is a version directory the Pusher published; nothing is trained here.
Reviews are real ones from the bundled corpus, cut or joined to exactly 200 words.
In-process: the model's `explain_text` signature called on one review, outputs to
numpy. Server: `polarity serve` in its own process, one client sending one review
per `:explain` request on a keep-alive connection and waiting for the answer
(JSON in and out included).

Target (issue 14): one explanation of a 200-word review <= 20 ms on these cores.
"""

import argparse
import http.client
import json
import os
import pathlib
import platform
import random
import shutil
import tempfile
import time
import urllib.parse

import numpy as np

from benchmarks.serving_bench import start_server

REPO = pathlib.Path(__file__).resolve().parents[1]
WORDS = 200
TARGET_MS = 20.0


def reviews_of(words: int, count: int, seed: int = 0) -> list:
    """`count` real reviews, each cut or joined with the next to exactly `words` words."""
    from polarity.data import read_reviews

    texts = [row["text"] for row in read_reviews()]
    random.Random(seed).shuffle(texts)
    reviews, pending = [], []
    for text in texts:
        pending += text.split()
        if len(pending) >= words:
            reviews.append(" ".join(pending[:words]))
            pending = []
            if len(reviews) == count:
                break
    return reviews


def _percentiles(seconds: list) -> dict:
    ms = np.asarray(seconds) * 1000
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p95_ms": round(float(np.percentile(ms, 95)), 3),
        "mean_ms": round(float(ms.mean()), 3),
        "calls": len(ms),
    }


def time_calls(call, reviews: list, calls: int, warmup: int = 10) -> dict:
    """Percentiles of `call(review)` over `calls` calls, cycling through the reviews."""
    for review in reviews[:warmup]:
        call(review)
    timings = []
    for index in range(calls):
        review = reviews[index % len(reviews)]
        started = time.perf_counter()
        call(review)
        timings.append(time.perf_counter() - started)
    return _percentiles(timings)


def in_process_call(model_dir: pathlib.Path):
    """One review through the SavedModel's explain_text signature, outputs to numpy."""
    import tensorflow as tf

    from components import explain, features

    signature = tf.saved_model.load(str(model_dir)).signatures[explain.EXPLAIN_SIGNATURE]

    def call(review: str) -> dict:
        outputs = signature(**{features.TEXT_INPUT_KEY: tf.constant([review])})
        return {name: value.numpy() for name, value in outputs.items()}

    return call


def server_call(url: str):
    """One review through POST :explain on a live server, over one keep-alive connection."""
    parsed = urllib.parse.urlparse(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    headers = {"Content-Type": "application/json"}

    def call(review: str) -> dict:
        body = json.dumps({"instances": [review]}).encode("utf-8")
        connection.request("POST", "/v1/models/polarity:explain", body=body, headers=headers)
        response = connection.getresponse()
        answer = json.loads(response.read())
        if response.status != 200:
            raise RuntimeError(f":explain answered {response.status}: {answer}")
        return answer

    return call


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model-dir", type=pathlib.Path, required=True, help="A pushed version directory.")
    parser.add_argument(
        "--output", type=pathlib.Path, default=REPO / "benchmarks" / "results" / "explain.json"
    )
    parser.add_argument("--calls", type=int, default=500, help="Timed calls per path (default 500).")
    args = parser.parse_args(argv)

    reviews = reviews_of(WORDS, 100)
    explained = in_process_call(args.model_dir)
    tokens = [int(explained(review)["token_count"][0]) for review in reviews[:20]]
    results = {"in_process": time_calls(explained, reviews, args.calls)}
    with tempfile.TemporaryDirectory() as scratch:
        base = pathlib.Path(scratch) / "polarity"
        shutil.copytree(args.model_dir, base / "1")
        batching = pathlib.Path(scratch) / "batching.txt"
        batching.write_text("max_batch_size { value: 32 }\nbatch_timeout_micros { value: 0 }\n")
        process, url = start_server(base, batching)
        try:
            results["server"] = time_calls(server_call(url), reviews, args.calls)
        finally:
            process.terminate()
            process.wait(30)
    report = {
        "benchmark": "explain",
        "model_dir": str(args.model_dir),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "review": {"words": WORDS, "reviews": len(reviews), "mean_tokens": round(float(np.mean(tokens)), 1)},
        **results,
        "target": {
            "p50_ms_at_most": TARGET_MS,
            "met_in_process": results["in_process"]["p50_ms"] <= TARGET_MS,
            "met_server": results["server"]["p50_ms"] <= TARGET_MS,
        },
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
