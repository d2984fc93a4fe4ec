"""Chooses where training runs, from the devices present at run time."""

import dataclasses
from collections.abc import Sequence

import tensorflow as tf


@dataclasses.dataclass(frozen=True)
class DevicePlan:
    """How to train on the devices found.

    Attributes:
      strategy: "mirrored" (two GPUs or more, all of them) or "default" (one GPU, or the CPU).
      devices: the logical device names the strategy spans.
      dtype_policy: Keras dtype policy: mixed precision on GPU, float32 on CPU.
    """

    strategy: str
    devices: tuple
    dtype_policy: str

    @property
    def on_gpu(self) -> bool:
        """Whether training runs on GPUs (the encoder then trains on the whole split)."""
        return any(device.startswith("/gpu:") for device in self.devices)


def plan_devices(gpus: Sequence | None = None) -> DevicePlan:
    """Picks the distribution strategy for the GPUs present.

    Args:
      gpus: physical GPU devices; `None` asks TensorFlow. Tests pass fakes.

    Returns:
      MirroredStrategy with mixed precision over every GPU present when there are
      two or more; one GPU needs no replicas (the default strategy, mixed precision);
      plain float32 on the CPU when there is none.
    """
    if gpus is None:
        gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return DevicePlan(strategy="default", devices=("/cpu:0",), dtype_policy="float32")
    devices = tuple(f"/gpu:{index}" for index in range(len(gpus)))
    strategy = "mirrored" if len(devices) > 1 else "default"
    return DevicePlan(strategy=strategy, devices=devices, dtype_policy="mixed_float16")


def make_strategy(plan: DevicePlan) -> tf.distribute.Strategy:
    """The tf.distribute strategy a plan names."""
    if plan.strategy == "mirrored":
        return tf.distribute.MirroredStrategy(devices=list(plan.devices))
    return tf.distribute.get_strategy()
