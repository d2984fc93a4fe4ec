"""Model versions as TF Serving manages them: poll, load, serve, drain, unload.

The lifecycle follows TF Serving's file-system source and availability-preserving
policy (tensorflow_serving/core/aspired_versions_manager.h): the base path is
polled; an aspired version is loaded and warmed up before it takes traffic; a
version that is no longer aspired is removed from the serving map only once a
newer one is AVAILABLE, and unloaded only after its in-flight requests finish.
States are TF Serving's (START, LOADING, AVAILABLE, UNLOADING, END).

One difference, on purpose: a version that fails to load is recorded (state END
with its error) and dropped from the aspired set, so the newest version that
does load serves, also on a fresh start next to a broken newer directory. It is
retried once its files change (names, sizes or modification times): a version
copied file by file onto an object store, where rename is not atomic, may be
seen half-written and then completed in place.
"""

import asyncio
import dataclasses
import logging
import os
import time

from serving import model_dir
from serving.rest_api import ApiError
from serving.servable import LoadError, Servable

log = logging.getLogger(__name__)

START, LOADING, AVAILABLE, UNLOADING, END = "START", "LOADING", "AVAILABLE", "UNLOADING", "END"


class ServableNotFoundError(ApiError):
    """No loaded version answers the request (TF Serving: NOT_FOUND)."""

    def __init__(self, message: str):
        super().__init__("NOT_FOUND", message)


def directory_fingerprint(path) -> tuple:
    """What changes when files are added to, removed from or rewritten in a directory.

    Every file's path, size and modification time, through tf.io.gfile (a local
    path or a URI); () when the directory cannot be read.
    """
    import tensorflow as tf

    entries = []
    try:
        for root, _, files in tf.io.gfile.walk(os.fspath(path)):
            for name in files:
                info = tf.io.gfile.stat(os.path.join(root, name))
                entries.append((os.path.join(root, name), info.length, info.mtime_nsec))
    except (OSError, tf.errors.OpError):
        return ()
    return tuple(sorted(entries))


@dataclasses.dataclass(frozen=True)
class VersionPolicy:
    """TF Serving's model_version_policy: latest N (default 1), all, or specific versions."""

    kind: str = "latest"
    num_versions: int = 1
    versions: tuple = ()

    def aspired(self, candidates: list) -> set:
        if self.kind == "all":
            return set(candidates)
        if self.kind == "specific":
            return set(candidates) & set(self.versions)
        return set(sorted(candidates)[-self.num_versions :])


@dataclasses.dataclass
class VersionState:
    """One version's entry in the model status (GetModelStatusResponse)."""

    version: int
    state: str = START
    error_code: str = "OK"
    error_message: str = ""


class _Loaded:
    """An AVAILABLE or UNLOADING servable and its count of in-flight requests."""

    def __init__(self, servable: Servable):
        self.servable = servable
        self.in_flight = 0
        self.drained = asyncio.Event()
        self.drained.set()


class Lease:
    """A hold on a servable for one request; `release()` once its work is done."""

    def __init__(self, loaded: _Loaded):
        self._loaded = loaded
        self.servable = loaded.servable
        loaded.in_flight += 1
        loaded.drained.clear()
        self._released = False

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        self._loaded.in_flight -= 1
        if self._loaded.in_flight == 0:
            self._loaded.drained.set()


@dataclasses.dataclass(frozen=True)
class LoadOptions:
    """How versions are loaded (TF Serving flags of the same names)."""

    file_system_poll_wait_seconds: float = 1.0
    max_num_load_retries: int = 2
    load_retry_interval_micros: int = 1_000_000


class ModelVersions:
    """The versions of one model under its base path, and which one serves.

    All methods run on the server's event loop; loading runs on `load_executor`.
    """

    def __init__(
        self,
        name: str,
        base_path,
        policy: VersionPolicy = VersionPolicy(),
        options: LoadOptions = LoadOptions(),
        load_executor=None,
        on_state=None,
        on_unloaded=None,
    ):
        self.name = name
        self.base_path = base_path  # a local path or a URI (model_dir reads both)
        self.policy = policy
        self.options = options
        self._executor = load_executor
        self._on_state = on_state or (lambda name, version, state: None)
        self._on_unloaded = on_unloaded or (lambda servable: None)
        self.states: dict[int, VersionState] = {}
        self._serving: dict[int, _Loaded] = {}
        self._unloads: set = set()
        self._failed: dict[int, tuple] = {}  # version -> its files' fingerprint when its load began

    # Requests.
    def acquire(self, version: int | None = None) -> Lease:
        """A lease on the requested version, or on the latest AVAILABLE one."""
        if version is None:
            if not self._serving:
                raise ServableNotFoundError(f"Servable not found for request: Latest({self.name})")
            return Lease(self._serving[max(self._serving)])
        loaded = self._serving.get(version)
        if loaded is None:
            raise ServableNotFoundError(f"Servable not found for request: Specific({self.name}, {version})")
        return Lease(loaded)

    def latest(self) -> int | None:
        return max(self._serving) if self._serving else None

    def available(self) -> list:
        return sorted(self._serving)

    # Lifecycle.
    def _set(self, version: int, state: str, error_code: str = "OK", message: str = "") -> None:
        entry = self.states.setdefault(version, VersionState(version))
        entry.state, entry.error_code, entry.error_message = state, error_code, message
        self._on_state(self.name, version, state)

    def _load_blocking(self, version: int) -> Servable:
        path = model_dir.version_path(self.base_path, version)
        attempts = self.options.max_num_load_retries + 1
        for attempt in range(attempts):
            try:
                servable = Servable.load(version, path)
                servable.warm_up()
                return servable
            except Exception as error:
                if attempt + 1 == attempts:
                    raise
                log.warning("Loading %s version %s failed (%s); retrying", self.name, version, error)
                time.sleep(self.options.load_retry_interval_micros / 1e6)
        raise AssertionError("unreachable")

    async def _load(self, version: int) -> None:
        self._set(version, LOADING)
        self._failed.pop(version, None)
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        # Taken before loading, so files changed during the load are a change too.
        path = model_dir.version_path(self.base_path, version)
        fingerprint = await loop.run_in_executor(self._executor, directory_fingerprint, path)
        try:
            servable = await loop.run_in_executor(self._executor, self._load_blocking, version)
        except Exception as error:
            reason = error if isinstance(error, LoadError) else f"{type(error).__name__}: {error}"
            log.error(
                "Version %s of model %s failed to load; it will be retried once its files change: %s",
                version,
                self.name,
                reason,
            )
            self._failed[version] = fingerprint
            self._set(version, END, "UNKNOWN", f"Failed to load version {version} of {self.name}: {reason}")
            return
        self._serving[version] = _Loaded(servable)
        self._set(version, AVAILABLE)
        log.info("Serving %s version %s (loaded in %.1fs)", self.name, version, time.perf_counter() - started)

    async def _unload(self, version: int) -> None:
        loaded = self._serving.pop(version)
        self._set(version, UNLOADING)
        await loaded.drained.wait()
        self._on_unloaded(loaded.servable)
        self._set(version, END)
        log.info("Unloaded %s version %s", self.name, version)

    def _needs_load(self, version: int) -> bool:
        state = self.states.get(version)
        return state is None or state.state == END

    def _still_broken(self, version: int) -> bool:
        """A failed version whose files have not changed since its load began."""
        if version not in self._failed:
            return False
        if directory_fingerprint(model_dir.version_path(self.base_path, version)) == self._failed[version]:
            return True
        log.info("The files of version %s of model %s changed; loading it again", version, self.name)
        del self._failed[version]
        return False

    def _aspired(self) -> set:
        candidates = [v for v in model_dir.list_versions(self.base_path) if not self._still_broken(v)]
        return self.policy.aspired(candidates)

    async def poll_once(self) -> None:
        """One pass of the source: load new aspired versions, retire the others."""
        loop = asyncio.get_running_loop()
        while True:  # a failed load changes the aspired set (the next newest is aspired)
            # Listing and stat-ing may be network calls (object stores): off the event loop.
            aspired = await loop.run_in_executor(self._executor, self._aspired)
            pending = [v for v in sorted(aspired, reverse=True) if self._needs_load(v)]
            if not pending:
                break
            await self._load(pending[0])
        if any(v in self._serving for v in aspired) or not aspired:
            for version in sorted(set(self._serving) - aspired):
                task = asyncio.create_task(self._unload(version))
                self._unloads.add(task)
                task.add_done_callback(self._unloads.discard)

    async def run(self, stop: asyncio.Event) -> None:
        """Polls until `stop` is set; the first pass is the caller's (see ServingCore.start)."""
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), self.options.file_system_poll_wait_seconds)
            except asyncio.TimeoutError:
                pass
            if stop.is_set():
                break
            try:
                await self.poll_once()
            except Exception:  # an unreadable base path must not stop the poller
                log.exception("Polling %s for versions of %s failed", self.base_path, self.name)

    async def wait_unloads(self) -> None:
        if self._unloads:
            await asyncio.gather(*self._unloads, return_exceptions=True)
