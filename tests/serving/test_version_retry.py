"""A version that failed to load is loaded again once its files change (issue 13, part 2).

On an object store where rename is not atomic a server may see a version half
copied; it fails to load, and must come into service once the copy completes in
place. Unchanged, a broken version stays out of service however often it is polled.
"""

import os
import shutil
import time

from serving_helpers import (
    Http,
    publish_broken_version,
    running_server,
    server_options,
    version_states,
    wait_for,
)
from tf_serving_models import half_plus_two

from serving import model_dir

REGRESS = {"signature_name": "regress_x_to_y", "examples": [{"x": 2.0}]}


def test_a_broken_version_comes_into_service_once_its_files_are_fixed(tmp_path):
    base = tmp_path / "default"
    good = half_plus_two(tmp_path / "half_plus_two")
    model_dir.publish(good, base, 1)
    broken = publish_broken_version(base, 2)
    with running_server(server_options(base, name="default")) as server:
        http = Http(server.url)
        states = version_states(http, "default")
        assert states[1] == ("AVAILABLE", "OK") and states[2][0] == "END" and states[2][1] != "OK"
        time.sleep(1.0)  # five polls: unchanged, the broken version is not retried
        assert version_states(http, "default")[2] == states[2]
        assert http.post("/v1/models/default/versions/2:regress", REGRESS)[0] == 404

        shutil.copytree(good, broken, dirs_exist_ok=True)  # the copy completes in place
        wait_for(
            lambda: version_states(http, "default") == {1: ("END", "OK"), 2: ("AVAILABLE", "OK")},
            what="the fixed version 2 to load and replace version 1",
        )
        assert http.post("/v1/models/default/versions/2:regress", REGRESS) == (200, {"results": [3.0]})
        assert http.get("/v1/models/default/metadata")[1]["model_spec"]["version"] == "2"


def test_a_version_copied_file_by_file_onto_an_object_store_serves_once_complete(tmp_path):
    """ram:// (TensorFlow's in-memory file system) stands for an object store: no atomic rename.

    The copy is seen before saved_model.pb arrives; the version fails to load, then serves.
    """
    import tensorflow as tf

    good = str(half_plus_two(tmp_path / "half_plus_two"))
    base = f"ram://retry-{tmp_path.name}/default"
    model_dir.publish(good, base, 1)
    target = model_dir.version_path(base, 2)
    for root, _, files in tf.io.gfile.walk(good):  # everything but saved_model.pb, as a copy in flight
        for name in files:
            relative = os.path.relpath(os.path.join(root, name), good)
            if relative != "saved_model.pb":
                tf.io.gfile.makedirs(os.path.dirname(os.path.join(target, relative)))
                tf.io.gfile.copy(os.path.join(root, name), os.path.join(target, relative))
    with running_server(server_options(base, name="default")) as server:
        http = Http(server.url)
        states = version_states(http, "default")
        assert states[1] == ("AVAILABLE", "OK") and states[2][0] == "END" and states[2][1] != "OK"
        tf.io.gfile.copy(os.path.join(good, "saved_model.pb"), os.path.join(target, "saved_model.pb"))
        wait_for(
            lambda: version_states(http, "default").get(2) == ("AVAILABLE", "OK"),
            what="version 2 to load once its saved_model.pb arrived",
        )
        assert http.post("/v1/models/default/versions/2:regress", REGRESS) == (200, {"results": [3.0]})
