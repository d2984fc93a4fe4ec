"""Chooses where training runs, from the devices present at run time."""

import dataclasses
from collections.abc import Sequence

import tensorflow as tf


@dataclasses.dataclass(frozen=True)
class DevicePlan:
    """How to train on the devices found.

    Attributes:
      strategy: "mirrored" (all GPUs present) or "default" (CPU).
      devices: the logical device names the strategy spans.
      dtype_policy: Keras dtype policy: mixed precision on GPU, float32 on CPU.
    """

    strategy: str
    devices: tuple
    dtype_policy: str


def plan_devices(gpus: Sequence | None = None) -> DevicePlan:
    """Picks the distribution strategy for the GPUs present.

    Args:
      gpus: physical GPU devices; `None` asks TensorFlow. Tests pass fakes.

    Returns:
      MirroredStrategy with mixed precision over every GPU present, or plain
      float32 on the CPU when there is none.
    """
    if gpus is None:
        gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return DevicePlan(strategy="default", devices=("/cpu:0",), dtype_policy="float32")
    devices = tuple(f"/gpu:{index}" for index in range(len(gpus)))
    return DevicePlan(strategy="mirrored", devices=devices, dtype_policy="mixed_float16")


def make_strategy(plan: DevicePlan) -> tf.distribute.Strategy:
    """The tf.distribute strategy a plan names."""
    if plan.strategy == "mirrored":
        return tf.distribute.MirroredStrategy(devices=list(plan.devices))
    return tf.distribute.get_strategy()
