"""The serving core: models, their versions, and running a request on a servable.

What TF Serving's ServerCore does for the embedded server: it owns one
ModelVersions per configured model, the version labels, the loader and
inference threads, and the batch schedulers, and it runs a request with a
deadline while keeping the version it runs on from being unloaded until the
work is done.
"""

import asyncio
import concurrent.futures
import dataclasses
import functools
import logging
import pathlib
from collections.abc import Callable

from serving.batching import BatchingParameters, BatchScheduler, batch_rows
from serving.metrics import ServingMetrics
from serving.rest_api import ApiError
from serving.versions import (
    AVAILABLE,
    Lease,
    LoadOptions,
    ModelVersions,
    ServableNotFoundError,
    VersionPolicy,
)

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """One served model (ModelServerConfig's ModelConfig: name, base_path, policy, labels)."""

    name: str
    base_path: pathlib.Path | str  # a local path, or a URI (gs://, s3://...) as TF Serving takes
    policy: VersionPolicy = VersionPolicy()
    version_labels: tuple = ()  # (label, version) pairs, sorted by label


class VersionLabelError(ValueError):
    """A version label the server may not assign (TF Serving: FAILED_PRECONDITION)."""


def assign_version_labels(models, states: dict, current: dict, allow_unavailable: bool) -> dict:
    """The label map of a model config, by ServerCore::UpdateModelVersionLabelMap's rule.

    A label may only point at an AVAILABLE version, unless allow_unavailable
    (--allow_version_labels_for_unavailable_models) is set and the label is new
    or keeps its version: moving an existing label still needs an available target.

    Args:
      models: the ModelConfigs.
      states: model name -> {version: VersionState} now.
      current: the label map in force (model -> {label: version}); {} at startup.
      allow_unavailable: the flag.

    Returns:
      model name -> {label: version}.

    Raises:
      VersionLabelError: with TF Serving's message.
    """
    labels: dict = {}
    for model in models:
        for label, version in model.version_labels:
            existing = current.get(model.name, {}).get(label)
            allowed = allow_unavailable and existing in (None, version)
            state = states.get(model.name, {}).get(version)
            if not allowed and (state is None or state.state != AVAILABLE):
                raise VersionLabelError(
                    f"FAILED_PRECONDITION: Request to assign label to version {version} of model "
                    f"{model.name}, which is not currently available for inference"
                )
            labels.setdefault(model.name, {})[label] = version
    return labels


@dataclasses.dataclass(frozen=True)
class CoreOptions:
    """How models are loaded and run; flag names follow tensorflow_model_server."""

    models: tuple
    batching: BatchingParameters | None = None
    load: LoadOptions = LoadOptions()
    rest_api_timeout_in_ms: int = 30_000
    num_inference_threads: int = 4
    allow_version_labels_for_unavailable_models: bool = False
    enable_signature_method_name_check: bool = False
    # --model_config_file_poll_wait_seconds: re-read the config (read_model_config() -> ModelConfigs).
    read_model_config: Callable[[], tuple] | None = None
    model_config_file_poll_wait_seconds: float = 0


class ServingCore:
    """Models by name, each with its versions; runs requests on leased servables."""

    def __init__(self, options: CoreOptions, metrics: ServingMetrics):
        self.options = options
        self.metrics = metrics
        threads = options.batching.num_batch_threads if options.batching else options.num_inference_threads
        self._executor = concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix="polarity-infer")
        self._loader = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="polarity-load")
        self._schedulers: dict = {}
        self._stop = asyncio.Event()
        self._pollers: list = []
        self.models = {
            model.name: ModelVersions(
                model.name,
                model.base_path,
                model.policy,
                options.load,
                load_executor=self._loader,
                on_state=metrics.set_state,
                on_unloaded=self._forget,
            )
            for model in options.models
        }
        self.labels: dict = {}

    async def start(self) -> None:
        """Assigns version labels, loads what is there now, then polls.

        As in TF Serving, the labels of the config are assigned before any version
        has loaded, so without --allow_version_labels_for_unavailable_models a
        config that names labels fails to start.

        Raises:
          VersionLabelError: a label may not be assigned.
        """
        self.labels = assign_version_labels(
            self.options.models,
            {name: versions.states for name, versions in self.models.items()},
            self.labels,
            self.options.allow_version_labels_for_unavailable_models,
        )
        for versions in self.models.values():
            await versions.poll_once()
            if versions.latest() is None:
                log.warning(
                    "No version of model %s loaded from %s yet; polling every %ss",
                    versions.name,
                    versions.base_path,
                    self.options.load.file_system_poll_wait_seconds,
                )
            self._pollers.append(asyncio.create_task(versions.run(self._stop)))
        options = self.options
        if options.read_model_config is not None and options.model_config_file_poll_wait_seconds > 0:
            self._pollers.append(asyncio.create_task(self._poll_model_config()))

    def reload_config(self, models: tuple) -> None:
        """Applies a re-read model config: its version labels and version policies.

        Labels are assigned by the same rule as at startup, so a label may move to a
        version once it is AVAILABLE; on a refusal nothing changes.

        Raises:
          VersionLabelError: a label may not be assigned.
          ValueError: the config adds, removes or moves a model (restart for that).
        """
        if {(m.name, m.base_path) for m in models} != {(m.name, m.base_path) for m in self.options.models}:
            raise ValueError(
                "the model config adds, removes or moves a model; polarity serve reloads version "
                "labels and version policies only: restart it to serve the new models"
            )
        self.labels = assign_version_labels(
            models,
            {name: versions.states for name, versions in self.models.items()},
            self.labels,
            self.options.allow_version_labels_for_unavailable_models,
        )
        for model in models:
            self.models[model.name].policy = model.policy

    async def _poll_model_config(self) -> None:
        """Re-reads the model config every --model_config_file_poll_wait_seconds, as TF Serving does."""
        last_error = None
        while True:
            try:
                await asyncio.wait_for(self._stop.wait(), self.options.model_config_file_poll_wait_seconds)
                return
            except asyncio.TimeoutError:
                pass
            try:
                self.reload_config(self.options.read_model_config())
                last_error = None
            except (OSError, ValueError) as error:  # ModelConfigError and VersionLabelError too
                if str(error) != last_error:
                    log.error("The model config was not reloaded: %s", error)
                last_error = str(error)

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._pollers, return_exceptions=True)
        for scheduler in self._schedulers.values():
            scheduler.close()
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._loader.shutdown(wait=False, cancel_futures=True)

    def version_for(self, model: str, version: int | None, label: str | None) -> int | None:
        """The version a request names: its number, its label's version, or None (latest).

        Raises:
          ApiError: INVALID_ARGUMENT for a label the model config does not assign.
        """
        if label is None:
            return version
        resolved = self.labels.get(model, {}).get(label)
        if resolved is None:
            raise ApiError("INVALID_ARGUMENT", f"Unrecognized servable version label: {label}")
        return resolved

    def acquire(self, model: str, version: int | None) -> Lease:
        """A lease on a loaded version of a model (ServableNotFoundError when none)."""
        versions = self.models.get(model)
        if versions is None:
            request = f"Latest({model})" if version is None else f"Specific({model}, {version})"
            raise ServableNotFoundError(f"Servable not found for request: {request}")
        return versions.acquire(version)

    def _forget(self, servable) -> None:
        for key in [key for key in self._schedulers if key[0] is servable]:
            self._schedulers.pop(key).close()

    async def run(self, lease, model: str, signature: str, arrays: dict, rows: int) -> dict:
        """Runs `signature` on the leased servable; the lease is released when the work ends.

        Raises:
          ApiError: DEADLINE_EXCEEDED after --rest_api_timeout_in_ms (the work still finishes);
            INVALID_ARGUMENT for inputs the batching session cannot batch; UNAVAILABLE for a
            full batch queue.
        """
        try:
            work = self._start(lease.servable, model, signature, arrays, rows)
        except BaseException:
            lease.release()
            raise
        work.add_done_callback(lambda _: lease.release())
        timeout = (
            self.options.rest_api_timeout_in_ms / 1000 if self.options.rest_api_timeout_in_ms > 0 else None
        )
        # asyncio.wait neither cancels the work on timeout nor when this request is cancelled.
        done, _ = await asyncio.wait((work,), timeout=timeout)
        if not done:
            raise ApiError(
                "DEADLINE_EXCEEDED", f"Request timed out after {self.options.rest_api_timeout_in_ms} ms"
            )
        return work.result()

    def _start(self, servable, model: str, signature: str, arrays: dict, rows: int) -> asyncio.Future:
        """Queues or starts the model call; the future holds this request's outputs."""
        batch_size = self.metrics.batch_size.labels(model, str(servable.version), signature)
        if self.options.batching is None:
            batch_size.observe(rows)
            loop = asyncio.get_running_loop()
            return loop.run_in_executor(self._executor, servable.run, signature, arrays)
        rows = batch_rows(arrays)
        key = (
            servable,
            signature,
            tuple((name, a.shape[1:], a.dtype.str) for name, a in sorted(arrays.items())),
        )
        scheduler = self._schedulers.get(key)
        if scheduler is None:
            scheduler = BatchScheduler(
                functools.partial(servable.run, signature),
                self.options.batching,
                self._executor,
                on_batch=batch_size.observe,
            )
            self._schedulers[key] = scheduler
        return scheduler.submit(arrays, rows)
