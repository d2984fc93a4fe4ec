"""The embedded server: TF Serving's REST API on aiohttp.

Same URLs, JSON and status codes as tensorflow_model_server's REST port, so a
client written for one works against the other. Binds 127.0.0.1 by default;
optional bearer-token auth; request bodies over --max_request_bytes get 413.
"""

import asyncio
import dataclasses
import hmac
import logging
import re
import signal
import threading
import time

import numpy as np
from aiohttp import web

from serving import explanations, json_tensor, rest_api
from serving.core import CoreOptions, ServingCore
from serving.json_tensor import JsonTensorError
from serving.metrics import CONTENT_TYPE, PROMETHEUS_PATH, ServingMetrics
from serving.rest_api import ApiError

try:
    import uvloop
except ImportError:  # no Windows build: asyncio's loop serves
    uvloop = None

log = logging.getLogger(__name__)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_MAX_REQUEST_BYTES = 4 * 1024 * 1024
API_PATH = re.compile(r"/v1/.*", re.IGNORECASE | re.DOTALL)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's event loop (libuv) where it is installed, else asyncio's own.

    aiohttp bundles a uvloop worker for deployment (GunicornUVLoopWebWorker). Here
    uvloop took about 3 points off the server's overhead over the in-process call
    at batch 32 (+29% to +26%, A/B with serving_bench's interleaved pairs): socket
    I/O and the loop's wake-up when a batch thread hands results back cost less.
    uvloop has no Windows build.
    """
    return (uvloop or asyncio).new_event_loop()


def run(coroutine):
    """asyncio.run on `new_event_loop()`'s kind of loop."""
    return (uvloop or asyncio).run(coroutine)


@dataclasses.dataclass(frozen=True)
class ServerOptions:
    """Where and how the REST API listens."""

    core: CoreOptions
    host: str = DEFAULT_HOST
    rest_api_port: int = 8501
    auth_token: str | None = None
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES


def _json_response(body: dict, status: int = 200, headers=None) -> web.Response:
    return web.Response(
        body=json_tensor.dump_json(body), status=status, content_type="application/json", headers=headers
    )


def _error_response(error: ApiError, headers=None) -> web.Response:
    return _json_response({"error": error.message}, error.http_status, headers)


class _Handlers:
    """The aiohttp handlers, bound to one core and its metrics."""

    def __init__(self, core: ServingCore, metrics: ServingMetrics, options: ServerOptions):
        self.core = core
        self.metrics = metrics
        self.options = options

    @web.middleware
    async def auth(self, request: web.Request, handler):
        token = self.options.auth_token
        if token is not None:
            given = request.headers.get("Authorization", "")
            expected = f"Bearer {token}"
            if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
                error = ApiError(
                    "UNAUTHENTICATED", "Missing or wrong bearer token: send 'Authorization: Bearer <token>'"
                )
                return _error_response(error, {"WWW-Authenticate": 'Bearer realm="polarity"'})
        return await handler(request)

    async def metrics_page(self, request: web.Request) -> web.Response:
        return web.Response(body=self.metrics.render(), headers={"Content-Type": CONTENT_TYPE})

    async def route(self, request: web.Request) -> web.Response:
        # http_rest_api_handler.h kPathRegex "(?i)/v1/.*": the API paths are case-insensitive.
        if API_PATH.fullmatch(request.path):
            return await self.v1(request)
        return await self.not_found(request)

    async def not_found(self, request: web.Request) -> web.Response:
        return _error_response(
            ApiError(
                "NOT_FOUND", f"No handler for {request.method} {request.path}; the API is under /v1/models/"
            )
        )

    async def v1(self, request: web.Request) -> web.Response:
        started = time.perf_counter()
        model, version, api = "", None, "unknown"
        try:
            route = rest_api.parse_path(request.method, request.path)
            model, version, api = route.model, route.version, route.kind
            response, version = await self._dispatch(request, route)
        except ApiError as error:
            response = _error_response(error)
        except JsonTensorError as error:
            response = _error_response(rest_api.invalid_argument(error))
        except Exception as error:
            response = _error_response(_model_error(error))
        self.metrics.observe(model, version, api, response.status, time.perf_counter() - started)
        return response

    async def _dispatch(self, request: web.Request, route) -> tuple:
        """decode -> run -> encode; returns (response, version that answered)."""
        if route.kind == "status":
            version = self.core.version_for(route.model, route.version, route.label)
            return self._status(route.model, version), version
        if route.kind == "metadata":
            return self._metadata(route)
        doc = json_tensor.parse_json_object(await _read_body(request, self.options.max_request_bytes))
        # What TF Serving reads from the body before it looks up the model (json_tensor.cc).
        default = explanations.EXPLAIN_SIGNATURE if route.kind == "explain" else rest_api.DEFAULT_SIGNATURE
        name = json_tensor.signature_name(doc) or default
        examples = None
        if route.kind in ("classify", "regress"):  # they take tf.Examples
            examples = rest_api.serialize_examples(json_tensor.classify_request_examples(doc))
        lease = self.core.acquire(route.model, self.core.version_for(route.model, route.version, route.label))
        try:
            arrays, rows, finish = self._prepare(route.kind, doc, name, examples, lease.servable)
        except BaseException:
            lease.release()
            raise
        outputs = await self.core.run(lease, route.model, name, arrays, rows)
        return _json_response(finish(outputs)), lease.servable.version

    def _prepare(self, kind: str, doc: dict, name: str, examples, servable) -> tuple:
        """(input arrays, rows, outputs -> response body) for a POST; no awaits."""
        signature = servable.signatures.get(name)
        if kind == "explain":
            return self._prepare_explain(doc, name, signature)
        if kind == "predict":
            if signature is None:
                raise ApiError(
                    "INVALID_ARGUMENT", f'Serving signature name: "{name}" not found in signature def'
                )
            request_format, arrays = json_tensor.predict_request_to_arrays(doc, signature.inputs)
            return (
                arrays,
                json_tensor.batch_size(arrays),
                lambda outputs: json_tensor.arrays_to_predict_response(outputs, request_format),
            )
        if signature is None:
            raise ApiError("INVALID_ARGUMENT", f"No signature was found with the name: {name}")
        check_method = self.core.options.enable_signature_method_name_check
        if kind == "classify":
            input_name = rest_api.classify_input(signature, check_method)
            results = rest_api.classification_results
        else:
            input_name = rest_api.regress_input(signature, check_method)
            results = rest_api.regression_results
        arrays = {input_name: np.array(examples, dtype=object)}
        rows = len(examples)
        return arrays, rows, lambda outputs: {json_tensor.RESULTS_KEY: results(outputs, rows)}

    @staticmethod
    def _prepare_explain(doc: dict, name: str, signature) -> tuple:
        """:explain (an extension): :predict's body, the explanation signature, KServe's answer."""
        if signature is None:
            raise ApiError(
                "FAILED_PRECONDITION",
                f'This model version has no explanation signature "{name}"; :explain needs a model '
                f'exported with one (Polarity exports "{explanations.EXPLAIN_SIGNATURE}")',
            )
        try:
            explanations.check_signature(signature)
        except ValueError as error:
            raise ApiError("FAILED_PRECONDITION", str(error)) from None
        _, arrays = json_tensor.predict_request_to_arrays(doc, signature.inputs)
        return arrays, json_tensor.batch_size(arrays), explanations.explain_response

    def _status(self, model: str, version: int | None) -> web.Response:
        versions = self.core.models.get(model)
        states = list(versions.states.values()) if versions is not None else []
        if version is not None:
            states = [s for s in states if s.version == version]
            if not states:
                raise ApiError("NOT_FOUND", f"Could not find version {version} of model {model}")
        elif not states:
            raise ApiError("NOT_FOUND", f"Could not find any versions of model {model}")
        return _json_response(rest_api.model_status_json(states))

    def _metadata(self, route) -> tuple:
        lease = self.core.acquire(route.model, self.core.version_for(route.model, route.version, route.label))
        try:
            servable = lease.servable
            body = rest_api.model_metadata_json(route.model, servable.version, servable.signature_defs)
        finally:
            lease.release()
        return _json_response(body), servable.version


async def _read_body(request: web.Request, limit: int) -> bytes:
    too_large = ApiError(
        "RESOURCE_EXHAUSTED",
        f"Request body is larger than the {limit}-byte limit (--max_request_bytes); send fewer instances",
        http_status=413,
    )
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise too_large from None


def _model_error(error: Exception) -> ApiError:
    import tensorflow as tf

    if isinstance(error, tf.errors.InvalidArgumentError):
        return ApiError("INVALID_ARGUMENT", error.message)
    log.exception("Internal error while answering a request", exc_info=error)
    return ApiError("INTERNAL", f"{type(error).__name__}: {error}")


def build_app(core: ServingCore, metrics: ServingMetrics, options: ServerOptions) -> web.Application:
    handlers = _Handlers(core, metrics, options)
    # aiohttp enforces the body limit too (413) for bodies without Content-Length.
    app = web.Application(middlewares=[handlers.auth], client_max_size=options.max_request_bytes)
    app.router.add_get(PROMETHEUS_PATH, handlers.metrics_page)
    app.router.add_route("*", "/{tail:.*}", handlers.route)
    return app


class Server:
    """A running embedded server: `await start()`, then `url`, then `await stop()`."""

    def __init__(self, options: ServerOptions):
        self.options = options
        self.metrics = ServingMetrics()
        self.core: ServingCore | None = None
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        return f"http://{self.options.host}:{self.port}"

    async def start(self) -> None:
        self.core = ServingCore(self.options.core, self.metrics)
        await self.core.start()
        app = build_app(self.core, self.metrics, self.options)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.options.host, self.options.rest_api_port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        log.info("Serving the REST API at %s", self.url)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self.core is not None:
            await self.core.stop()


async def serve_forever(options: ServerOptions, on_ready=None) -> None:
    """Runs a server until SIGINT or SIGTERM (as TF Serving stops), then stops it.

    Both signals are handled here, not left to Python's defaults: SIGTERM (what
    Kubernetes and systemd send) would otherwise kill the process without closing
    the listener, and SIGINT may arrive ignored from a shell that started the
    server in the background.
    """
    loop = asyncio.get_running_loop()
    log.info("Event loop: %s.%s", type(loop).__module__, type(loop).__name__)
    server = Server(options)
    await server.start()
    stop = asyncio.Event()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stop.set)
    if on_ready is not None:
        on_ready(server)
    try:
        await stop.wait()
    finally:
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)
        await server.stop()


class BackgroundServer:
    """A server on its own event-loop thread, for tests, benchmarks and notebooks.

    Use as a context manager; `url` is ready once `start()` returns.
    """

    def __init__(self, options: ServerOptions):
        self.server = Server(options)
        self._loop = new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="polarity-serve", daemon=True)

    @property
    def url(self) -> str:
        return self.server.url

    def call(self, coroutine, timeout: float = 60):
        """Runs a coroutine on the server's loop and returns its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def start(self) -> "BackgroundServer":
        self._thread.start()
        self.call(self.server.start(), timeout=300)
        return self

    def stop(self) -> None:
        try:
            self.call(self.server.stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def __enter__(self) -> "BackgroundServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
