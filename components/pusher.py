"""A Pusher executor that publishes versions no server sees half-written (serving/model_dir.py).

The serving directory is a local path or a URI (gs://, s3://): it is reached
through tf.io.gfile, as TFX reaches its own outputs. On a local file system a
version is staged and renamed into place; on an object store, where TFX's own
Pusher copies file by file too, saved_model.pb is written last, once every other
file has arrived. A version number is never reused, and a model that is already
published is not published again.
"""

from typing import Any

from tfx import types
from tfx import v1 as tfx
from tfx.components.pusher import executor as pusher_executor
from tfx.dsl.components.base import executor_spec
from tfx.proto import pusher_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import proto_utils

from serving import model_dir


class AtomicPusherExecutor(pusher_executor.Executor):
    """Pushes a blessed model to a TF Serving model base path, local or on an object store."""

    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        pushed_model = artifact_utils.get_single_instance(
            output_dict[standard_component_specs.PUSHED_MODEL_KEY]
        )
        if not self.CheckBlessing(input_dict):
            self._MarkNotPushed(pushed_model)
            return
        model_path = self.GetModelPath(input_dict)
        destination = pusher_pb2.PushDestination()
        proto_utils.json_to_proto(exec_properties[standard_component_specs.PUSH_DESTINATION_KEY], destination)
        base_dir = destination.filesystem.base_directory
        model_dir.remove_leftovers(base_dir)
        version = model_dir.find_identical_version(base_dir, model_path)
        if version is not None:
            # A re-run re-blessed a model that is already published: record it, add nothing.
            published = model_dir.version_path(base_dir, version)
        else:
            version = model_dir.next_version(base_dir)
            published = model_dir.publish(model_path, base_dir, version)
        model_dir.copy_tree(model_path, pushed_model.uri)
        self._MarkPushed(pushed_model, pushed_destination=published, pushed_version=str(version))


class AtomicPusher(tfx.components.Pusher):
    """TFX's Pusher with the atomic, never-reused-version executor."""

    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(AtomicPusherExecutor)
