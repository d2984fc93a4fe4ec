"""Helpers of the serving tests: publish versions, run a live server, talk HTTP to it.

Servers are real (aiohttp on 127.0.0.1, a free port) and serve the real SavedModel.
"""

import contextlib
import http.client
import json
import pathlib
import time
import urllib.parse

import pytest

from serving import model_dir


def publish_version(source: pathlib.Path, base: pathlib.Path, version: int) -> pathlib.Path:
    """Publishes the pushed model as `version` under base (atomically, as the Pusher does)."""
    return model_dir.publish(source, base, version)


def publish_broken_version(base: pathlib.Path, version: int) -> pathlib.Path:
    """A numeric version directory whose saved_model.pb is garbage, renamed into place."""
    staging = base / f"{model_dir.STAGING_PREFIX}broken-{version}"
    staging.mkdir(parents=True)
    (staging / "saved_model.pb").write_bytes(b"\x00 this is not a SavedModel \xff" * 10)
    target = base / str(version)
    staging.rename(target)
    return target


def server_options(base: pathlib.Path, name: str = "polarity", batching=None, policy=None, **server_kwargs):
    from serving.core import CoreOptions, ModelConfig
    from serving.server import ServerOptions
    from serving.versions import LoadOptions, VersionPolicy

    model = ModelConfig(name, base, policy or VersionPolicy())
    load = LoadOptions(file_system_poll_wait_seconds=0.2, max_num_load_retries=0)
    core = CoreOptions(models=(model,), batching=batching, load=load)
    return ServerOptions(core=core, rest_api_port=0, **server_kwargs)


@contextlib.contextmanager
def running_server(options):
    from serving.server import BackgroundServer

    server = BackgroundServer(options).start()
    try:
        yield server
    finally:
        server.stop()


class Http:
    """A tiny HTTP client that returns (status, parsed JSON or text) and never raises on 4xx."""

    def __init__(self, url: str, token: str | None = None):
        parsed = urllib.parse.urlparse(url)
        self.host, self.port = parsed.hostname, parsed.port
        self.token = token

    def request(self, method: str, path: str, body=None, headers=None, timeout: float = 30):
        if body is not None and not isinstance(body, bytes):
            body = json.dumps(body).encode("utf-8")
        headers = dict(headers or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            content_type = response.getheader("Content-Type", "")
        finally:
            connection.close()
        if content_type.startswith("application/json"):
            return response.status, json.loads(payload)
        return response.status, payload.decode("utf-8", errors="replace")

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body, **kwargs):
        return self.request("POST", path, body=body, **kwargs)


def wait_for(condition, timeout: float = 60, interval: float = 0.1, what: str = "condition"):
    """Polls `condition()` until it returns a truthy value; fails the test on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


def version_states(http: Http, model: str = "polarity") -> dict:
    status, body = http.get(f"/v1/models/{model}")
    if status != 200:
        return {}
    return {int(v["version"]): (v["state"], v["status"]["error_code"]) for v in body["model_version_status"]}
