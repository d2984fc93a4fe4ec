"""Version labels as TF Serving assigns and resolves them (model_servers/server_core.cc).

`version_labels { key: "stable" value: N }` in a model config names a version;
/v1/models/NAME/labels/LABEL reaches it for status, metadata, predict, classify
and regress. Live servers on 127.0.0.1, models built as TF Serving's testdata.
"""

import functools
import time

import pytest
from serving_helpers import Http, running_server, version_states, wait_for
from tf_serving_models import half_plus_two

from serving import model_dir
from serving.core import CoreOptions, ModelConfig, VersionLabelError, assign_version_labels
from serving.model_config import read_model_config
from serving.server import BackgroundServer, ServerOptions
from serving.versions import LoadOptions, VersionPolicy, VersionState

MODEL = "/v1/models/default"
REGRESS = {"signature_name": "regress_x_to_y", "examples": [{"x": 2.0}]}


@pytest.fixture(scope="module")
def half_plus_two_dir(tmp_path_factory):
    return half_plus_two(tmp_path_factory.mktemp("half_plus_two") / "model")


def label_options(base, labels, allow_unavailable=True, policy=VersionPolicy()) -> ServerOptions:
    core = CoreOptions(
        models=(ModelConfig("default", base, policy, tuple(sorted(labels.items()))),),
        load=LoadOptions(file_system_poll_wait_seconds=0.2, max_num_load_retries=0),
        allow_version_labels_for_unavailable_models=allow_unavailable,
    )
    return ServerOptions(core=core, rest_api_port=0)


def test_the_config_file_assigns_labels(tmp_path):
    """model_server_config.proto ModelConfig.version_labels, read from --model_config_file."""
    config = tmp_path / "models.config"
    config.write_text(
        'model_config_list { config { name: "default" base_path: "/models/default" '
        'version_labels { key: "stable" value: 1 } version_labels { key: "canary" value: 2 } } }\n'
    )
    (model,) = read_model_config(config)
    assert model.version_labels == (("canary", 2), ("stable", 1))


def test_every_api_follows_a_label(tmp_path, half_plus_two_dir):
    """http_rest_api_handler_test.cc: status, metadata, predict, classify, regress by /labels/<label>."""
    base = tmp_path / "default"
    model_dir.publish(half_plus_two_dir, base, 123)
    with running_server(label_options(base, {"stable": 123})) as server:
        http = Http(server.url)
        stable = f"{MODEL}/labels/stable"
        assert http.post(f"{stable}:predict", {"instances": [2.0]}) == (200, {"predictions": [3.0]})
        assert http.post(f"{stable}:regress", REGRESS) == (200, {"results": [3.0]})
        classify = {"signature_name": "classify_x_to_y", "examples": [{"x": 2.0}]}
        assert http.post(f"{stable}:classify", classify) == (200, {"results": [[["", 3.0]]]})
        status, body = http.get(stable)
        assert status == 200 and [v["version"] for v in body["model_version_status"]] == ["123"]
        status, body = http.get(f"{stable}/metadata")
        assert status == 200 and body["model_spec"]["version"] == "123"


@pytest.mark.parametrize(
    "method, suffix",
    [("POST", ":predict"), ("POST", ":classify"), ("POST", ":regress"), ("GET", ""), ("GET", "/metadata")],
)
def test_an_unknown_label_is_invalid_argument(tmp_path, half_plus_two_dir, method, suffix):
    """server_core.cc GetModelVersionForLabel: INVALID_ARGUMENT "Unrecognized servable version label"."""
    base = tmp_path / "default"
    model_dir.publish(half_plus_two_dir, base, 123)
    with running_server(label_options(base, {"stable": 123})) as server:
        status, body = Http(server.url).request(method, f"{MODEL}/labels/nope{suffix}", body=REGRESS)
        assert (status, body) == (400, {"error": "Unrecognized servable version label: nope"})


def test_a_label_on_a_version_not_loaded_is_not_found_until_it_loads(tmp_path, half_plus_two_dir):
    """server_core.cc ServableRequestFromModelSpec: a label becomes Specific(name, version).

    With --allow_version_labels_for_unavailable_models a canary label may name a
    version not pushed yet: NOT_FOUND until it is, then it answers; the version it
    replaces (latest policy) takes its label out of service with it.
    """
    base = tmp_path / "default"
    model_dir.publish(half_plus_two_dir, base, 1)
    with running_server(label_options(base, {"stable": 1, "canary": 2})) as server:
        http = Http(server.url)
        assert http.post(f"{MODEL}/labels/stable:regress", REGRESS) == (200, {"results": [3.0]})
        assert http.post(f"{MODEL}/labels/canary:regress", REGRESS) == (
            404,
            {"error": "Servable not found for request: Specific(default, 2)"},
        )
        assert http.get(f"{MODEL}/labels/canary") == (
            404,
            {"error": "Could not find version 2 of model default"},
        )
        model_dir.publish(half_plus_two_dir, base, 2)
        wait_for(
            lambda: version_states(http, "default").get(1) == ("END", "OK"), what="version 2 to replace 1"
        )
        assert http.post(f"{MODEL}/labels/canary:regress", REGRESS) == (200, {"results": [3.0]})
        status, body = http.post(f"{MODEL}/labels/stable:regress", REGRESS)
        assert (status, body) == (404, {"error": "Servable not found for request: Specific(default, 1)"})


def test_without_the_flag_a_config_with_labels_does_not_start(tmp_path, half_plus_two_dir):
    """server_core.cc UpdateModelVersionLabelMap runs before the first load: FAILED_PRECONDITION.

    TF Serving: "Failed to start server. Error: FAILED_PRECONDITION: Request to assign label to
    version 1 of model default, which is not currently available for inference".
    """
    base = tmp_path / "default"
    model_dir.publish(half_plus_two_dir, base, 1)
    background = BackgroundServer(label_options(base, {"stable": 1}, allow_unavailable=False))
    try:
        with pytest.raises(VersionLabelError) as error:
            background.start()
    finally:
        background.stop()
    assert str(error.value) == (
        "FAILED_PRECONDITION: Request to assign label to version 1 of model default, "
        "which is not currently available for inference"
    )


@pytest.mark.parametrize(
    "labels, states, current, allow, expected",
    [
        # A label may point at an AVAILABLE version, flag or not.
        ((("stable", 1),), {1: "AVAILABLE"}, {}, False, {"m": {"stable": 1}}),
        # Not at one that is loading or absent, unless the flag is set and the label is new ...
        ((("stable", 1),), {1: "LOADING"}, {}, False, None),
        ((("canary", 2),), {1: "AVAILABLE"}, {}, True, {"m": {"canary": 2}}),
        # ... or keeps its version.
        ((("canary", 2),), {1: "AVAILABLE"}, {"m": {"canary": 2}}, True, {"m": {"canary": 2}}),
        # Moving an existing label to an unavailable version is refused even with the flag.
        ((("stable", 2),), {1: "AVAILABLE"}, {"m": {"stable": 1}}, True, None),
        ((("stable", 2),), {2: "AVAILABLE"}, {"m": {"stable": 1}}, True, {"m": {"stable": 2}}),
    ],
)
def test_the_assignment_rule(labels, states, current, allow, expected):
    """server_core.cc UpdateModelVersionLabelMap and allow_version_labels_for_unavailable_models."""
    models = (ModelConfig("m", "/m", version_labels=labels),)
    state_map = {"m": {v: VersionState(v, s) for v, s in states.items()}}
    if expected is None:
        with pytest.raises(VersionLabelError, match="which is not currently available for inference"):
            assign_version_labels(models, state_map, current, allow)
    else:
        assert assign_version_labels(models, state_map, current, allow) == expected


def test_a_reloaded_config_assigns_labels_once_their_versions_are_available(tmp_path, half_plus_two_dir):
    """server.cc PollFilesystemAndReloadConfig + server_core.cc ReloadConfig, without the flag.

    --model_config_file_poll_wait_seconds re-reads the config: a label on an AVAILABLE
    version is assigned at the next poll; one on a version not loaded yet is refused
    (the config is left as it was) until that version is AVAILABLE.
    """
    base = tmp_path / "default"
    model_dir.publish(half_plus_two_dir, base, 1)
    config = tmp_path / "models.config"

    def write_config(labels: str) -> None:
        config.write_text(
            f'model_config_list {{ config {{ name: "default" base_path: "{base}" '
            f"model_version_policy {{ all {{}} }} {labels} }} }}\n"
        )

    write_config("")
    core = CoreOptions(
        models=read_model_config(config),
        load=LoadOptions(file_system_poll_wait_seconds=0.2, max_num_load_retries=0),
        read_model_config=functools.partial(read_model_config, config),
        model_config_file_poll_wait_seconds=0.2,
    )
    with running_server(ServerOptions(core=core, rest_api_port=0)) as server:
        http = Http(server.url)
        stable, canary = f"{MODEL}/labels/stable:regress", f"{MODEL}/labels/canary:regress"
        assert http.post(stable, REGRESS)[0] == 400
        write_config('version_labels { key: "stable" value: 1 }')
        wait_for(lambda: http.post(stable, REGRESS)[0] == 200, what="the stable label to be assigned")

        write_config('version_labels { key: "stable" value: 1 } version_labels { key: "canary" value: 2 }')
        time.sleep(1.0)  # five polls, each refused: version 2 is not available
        assert http.post(canary, REGRESS) == (400, {"error": "Unrecognized servable version label: canary"})
        assert http.post(stable, REGRESS) == (200, {"results": [3.0]})

        model_dir.publish(half_plus_two_dir, base, 2)
        wait_for(lambda: http.post(canary, REGRESS)[0] == 200, what="the canary label to be assigned")
        assert http.get(f"{MODEL}/labels/canary")[1]["model_version_status"][0]["version"] == "2"
        assert http.post(stable, REGRESS) == (200, {"results": [3.0]})
