"""Prometheus metrics of the embedded server, at TF Serving's path.

TF Serving exports its monitoring at /monitoring/prometheus/metrics (see
PrometheusExporter::kPrometheusPath); so does `polarity serve`. Every server
has its own registry, so several servers in one process (tests) stay apart.
"""

import prometheus_client

PROMETHEUS_PATH = "/monitoring/prometheus/metrics"
LATENCY_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
_STATES = ("START", "LOADING", "AVAILABLE", "UNLOADING", "END")


class ServingMetrics:
    """Requests, errors, latency and batch sizes, labelled by model and version."""

    def __init__(self):
        self.registry = prometheus_client.CollectorRegistry()
        self.requests = prometheus_client.Counter(
            "polarity_serving_requests",
            "REST requests answered, by model, version, API and HTTP status code.",
            ("model", "version", "api", "code"),
            registry=self.registry,
        )
        self.errors = prometheus_client.Counter(
            "polarity_serving_errors",
            "REST requests answered with an error status (4xx or 5xx).",
            ("model", "version", "api", "code"),
            registry=self.registry,
        )
        self.latency = prometheus_client.Histogram(
            "polarity_serving_request_latency_seconds",
            "Time from a request's arrival to its response, by model, version and API.",
            ("model", "version", "api"),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.batch_size = prometheus_client.Histogram(
            "polarity_serving_batch_size",
            "Rows per model call after server-side batching.",
            ("model", "version", "signature"),
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self.version_state = prometheus_client.Gauge(
            "polarity_serving_model_version_state",
            "1 for the state each model version is in (TF Serving's ModelVersionStatus.State).",
            ("model", "version", "state"),
            registry=self.registry,
        )

    def observe(self, model: str, version, api: str, code: int, seconds: float) -> None:
        labels = (model, "" if version is None else str(version), api)
        self.requests.labels(*labels, str(code)).inc()
        if code >= 400:
            self.errors.labels(*labels, str(code)).inc()
        self.latency.labels(*labels).observe(seconds)

    def set_state(self, model: str, version: int, state: str) -> None:
        for name in _STATES:
            self.version_state.labels(model, str(version), name).set(1 if name == state else 0)

    def render(self) -> bytes:
        return prometheus_client.generate_latest(self.registry)


CONTENT_TYPE = prometheus_client.CONTENT_TYPE_LATEST
