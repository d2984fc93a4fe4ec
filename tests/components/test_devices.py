"""Device selection with the device list faked: GPU paths are chosen at run time."""

import collections

import tensorflow as tf

from components import devices, features
from components.hyperparameters import Hyperparameters
from components.model import DEEP_EMBEDDING, build_model

FakeDevice = collections.namedtuple("FakeDevice", "name device_type")


def test_no_gpu_trains_on_cpu_in_float32():
    plan = devices.plan_devices(gpus=[])
    assert plan == devices.DevicePlan(strategy="default", devices=("/cpu:0",), dtype_policy="float32")
    assert devices.make_strategy(plan) is tf.distribute.get_strategy()


def test_one_gpu_needs_no_replicas_but_uses_mixed_precision():
    plan = devices.plan_devices(gpus=[FakeDevice("/physical_device:GPU:0", "GPU")])
    assert plan.strategy == "default"
    assert plan.devices == ("/gpu:0",)
    assert plan.dtype_policy == "mixed_float16"
    assert plan.on_gpu


def test_several_gpus_are_all_mirrored():
    gpus = [FakeDevice(f"/physical_device:GPU:{index}", "GPU") for index in range(4)]
    plan = devices.plan_devices(gpus=gpus)
    assert plan.strategy == "mirrored"
    assert plan.devices == ("/gpu:0", "/gpu:1", "/gpu:2", "/gpu:3")
    assert plan.dtype_policy == "mixed_float16"
    assert plan.on_gpu
    assert not devices.plan_devices(gpus=[]).on_gpu


def test_this_machine_plan_matches_the_devices_tensorflow_sees():
    gpus = tf.config.list_physical_devices("GPU")
    assert devices.plan_devices().on_gpu == bool(gpus)
    assert devices.plan_devices().strategy == ("mirrored" if len(gpus) > 1 else "default")


def test_mixed_precision_model_keeps_a_float32_output():
    model = build_model(
        Hyperparameters(embedding_dim=4), vocab_size=50, num_classes=2, dtype_policy="mixed_float16"
    )
    embedding = model.get_layer(DEEP_EMBEDDING)
    assert embedding.dtype_policy.name == "mixed_float16"
    assert embedding.compute_dtype == "float16"
    probability = model({features.NGRAM_IDS_KEY: tf.constant([[1, 2, 0]], tf.int64)})
    assert probability.dtype == tf.float32
    assert probability.shape == (1, 2)  # a score per class
