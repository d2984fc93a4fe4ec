"""Version handling as TF Serving does it, and zero failed requests while versions change under load."""

import re
import threading
import time

from serving_helpers import (
    Http,
    publish_broken_version,
    publish_version,
    running_server,
    server_options,
    version_states,
    wait_for,
)

from components import features
from serving.batching import BatchingParameters
from serving.core import ModelConfig
from serving.model_config import read_model_config

# How long the batching window holds the in-flight request (longer than a model's load, even
# on a loaded CI machine).
IN_FLIGHT_WINDOW_MICROS = 20_000_000
PREDICT_ONE = {
    "signature_name": features.PREDICT_TEXT_SIGNATURE,
    "instances": ["a fine, warm and funny film"],
}


class SteadyLoad:
    """Client threads sending :predict requests back to back until stopped; counts every outcome."""

    def __init__(self, url: str, clients: int = 6):
        self.url = url
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.ok = 0
        self.failures: list = []
        self.threads = [threading.Thread(target=self._client, daemon=True) for _ in range(clients)]

    def _client(self) -> None:
        http = Http(self.url)
        while not self.stop.is_set():
            try:
                status, body = http.post("/v1/models/polarity:predict", PREDICT_ONE, timeout=30)
                good = status == 200 and len(body["predictions"]) == 1
                outcome = None if good else (status, body)
            except Exception as error:  # a refused or dropped connection is a failure too
                outcome = repr(error)
            with self.lock:
                if outcome is None:
                    self.ok += 1
                else:
                    self.failures.append(outcome)

    def __enter__(self) -> "SteadyLoad":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(60)


def requests_by_version(http: Http) -> dict:
    _, text = http.get("/monitoring/prometheus/metrics")
    pattern = (
        r'polarity_serving_requests_total\{api="predict",code="200",model="polarity",version="(\d+)"\} (\S+)'
    )
    return {int(version): float(count) for version, count in re.findall(pattern, text)}


def test_new_versions_and_a_broken_one_under_load(tmp_path, model_version_dir):
    base = tmp_path / "polarity"
    publish_version(model_version_dir, base, 1)
    batching = BatchingParameters(max_batch_size=16, batch_timeout_micros=1000)
    with running_server(server_options(base, batching=batching)) as server:
        http = Http(server.url)
        with SteadyLoad(server.url) as load:
            time.sleep(0.5)
            for version in (2, 3):
                publish_version(model_version_dir, base, version)
                wait_for(
                    lambda v=version: (
                        version_states(http).get(v) == ("AVAILABLE", "OK")
                        and version_states(http).get(v - 1) == ("END", "OK")
                    ),
                    what=f"version {version} to replace {version - 1}",
                )
            publish_broken_version(base, 4)
            states = wait_for(
                lambda: (s := version_states(http)).get(4, ("", ""))[0] == "END" and s,
                what="the broken version 4 to fail",
            )
            assert states[4][1] != "OK" and states[3] == ("AVAILABLE", "OK")
            time.sleep(0.5)  # more polls: the broken version is never retried into service
            assert version_states(http)[3] == ("AVAILABLE", "OK")
            assert http.post("/v1/models/polarity/versions/4:predict", PREDICT_ONE)[0] == 404
            publish_version(model_version_dir, base, 5)
            wait_for(lambda: version_states(http).get(3) == ("END", "OK"), what="version 5 to replace 3")
            time.sleep(0.5)
        assert load.failures == [], load.failures[:5]
        assert load.ok > 50
        served = requests_by_version(http)
        assert 4 not in served and served.get(5, 0) > 0 and set(served) <= {1, 2, 3, 5}
        status, body = http.get("/v1/models/polarity/versions/4")
        assert (
            status == 200 and "saved_model.pb" in body["model_version_status"][0]["status"]["error_message"]
        )
        assert version_states(http)[5] == ("AVAILABLE", "OK")


def test_in_flight_requests_finish_before_the_old_version_unloads(tmp_path, model_version_dir):
    base = tmp_path / "polarity"
    publish_version(model_version_dir, base, 1)
    # A batching window keeps one request in flight on version 1 while version 2 loads. It must
    # outlast that load: under CI's load a 3 s window closed first (version 1 then went from
    # AVAILABLE to END between two polls), so the window is long and the test checks it held.
    batching = BatchingParameters(max_batch_size=1000, batch_timeout_micros=IN_FLIGHT_WINDOW_MICROS)
    with running_server(server_options(base, batching=batching)) as server:
        http = Http(server.url)
        answers = []
        request = threading.Thread(
            target=lambda: answers.append(http.post("/v1/models/polarity:predict", PREDICT_ONE))
        )
        request.start()
        time.sleep(0.3)
        publish_version(model_version_dir, base, 2)
        wait_for(lambda: version_states(http).get(2) == ("AVAILABLE", "OK"), what="version 2 to load")
        assert request.is_alive(), (
            f"version 2 took longer to load than the {IN_FLIGHT_WINDOW_MICROS / 1e6:.0f} s batching "
            "window that holds the request: the test cannot observe the drain; raise IN_FLIGHT_WINDOW_MICROS"
        )
        # Version 2 serves, and version 1 drains its in-flight request instead of ending.
        wait_for(
            lambda: version_states(http).get(1) == ("UNLOADING", "OK"), what="version 1 to start unloading"
        )
        assert request.is_alive(), "version 1 started unloading after its in-flight request finished"
        request.join(IN_FLIGHT_WINDOW_MICROS / 1e6 + 30)
        assert answers and answers[0][0] == 200, answers
        wait_for(
            lambda: version_states(http).get(1) == ("END", "OK"), what="version 1 to unload after draining"
        )


def test_fresh_start_next_to_a_broken_newer_version_serves_the_good_one(tmp_path, model_version_dir):
    base = tmp_path / "polarity"
    publish_version(model_version_dir, base, 1)
    publish_broken_version(base, 2)
    with running_server(server_options(base)) as server:
        http = Http(server.url)
        states = version_states(http)
        assert states[1] == ("AVAILABLE", "OK")
        assert states[2][0] == "END" and states[2][1] != "OK"
        assert http.post("/v1/models/polarity:predict", PREDICT_ONE)[0] == 200
        assert http.get("/v1/models/polarity/metadata")[1]["model_spec"]["version"] == "1"


def test_all_versions_policy_serves_any_loaded_version_on_request(tmp_path, model_version_dir):
    base = tmp_path / "models" / "polarity"
    publish_version(model_version_dir, base, 1)
    publish_version(model_version_dir, base, 2)
    config_file = tmp_path / "models.config"
    config_file.write_text(
        'model_config_list { config { name: "polarity" base_path: "models/polarity" '
        'model_platform: "tensorflow" model_version_policy { all {} } } }\n'
    )
    (model,) = read_model_config(config_file)
    assert model == ModelConfig("polarity", base, model.policy) and model.policy.kind == "all"
    with running_server(server_options(model.base_path, policy=model.policy)) as server:
        http = Http(server.url)
        assert version_states(http) == {1: ("AVAILABLE", "OK"), 2: ("AVAILABLE", "OK")}
        for version in (1, 2):
            assert http.post(f"/v1/models/polarity/versions/{version}:predict", PREDICT_ONE)[0] == 200
        assert http.get("/v1/models/polarity/metadata")[1]["model_spec"]["version"] == "2"
