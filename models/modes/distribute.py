"""How a run uses the machine: threads and precision, and training through
tf.distribute on one device, several GPUs, or several machines.

The pix2pix step runs once per replica on that replica's share of the global batch
(--batch_size images each); each replica's losses are divided by the number of
replicas, so the gradients the optimiser sums across replicas are those of the
global batch's mean loss. Batch norm keeps pix2pix's semantics per replica: each
replica normalises with the statistics of its own images (instance norm at one
image per replica), exactly as a single device with --batch_size images would;
--sync_batch_norm pools the statistics of all replicas instead, as a single device
with the global batch would.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import tensorflow as tf

from models.core.errors import UsageError


def configure_threads(crop_size: int, intra_op_threads: int | None,
                      inter_op_threads: int | None) -> None:
    """At 64x64 a step is hundreds of tiny ops: one thread per op and two ops at a time
    beat TensorFlow's defaults on CPU by about 40% (see docs/speed.md)."""
    small = crop_size <= 64
    tf.config.threading.set_intra_op_parallelism_threads(intra_op_threads or (1 if small else 0))
    tf.config.threading.set_inter_op_parallelism_threads(inter_op_threads or (2 if small else 0))


def set_precision(mode: str) -> None:
    """Keras's mixed precision: float16 or bfloat16 compute, float32 weights."""
    keras.mixed_precision.set_global_policy("float32" if mode == "off" else f"mixed_{mode}")


def make_strategy(name: str, cpu_devices: int = 1) -> tf.distribute.Strategy:
    """The strategy a --strategy value names; create it before any other TensorFlow op.

    "auto" mirrors across the GPUs when there are several, else runs on one device.
    `cpu_devices` > 1 splits the CPU into that many logical devices for "mirrored"
    when there is no GPU: a way to try data parallelism on one machine.
    "multi_worker" reads the cluster and this process's task from $TF_CONFIG.
    """
    if name == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = tf.config.list_physical_devices("GPU")
    if cpu_devices > 1 and not gpus:
        tf.config.set_logical_device_configuration(
            tf.config.list_physical_devices("CPU")[0],
            [tf.config.LogicalDeviceConfiguration()] * cpu_devices)
    devices = ([f"/gpu:{i}" for i in range(len(gpus))]
               or [f"/cpu:{i}" for i in range(max(cpu_devices, 1))])
    if name == "mirrored" or (name == "auto" and len(devices) > 1):
        return tf.distribute.MirroredStrategy(devices)
    # The default strategy: the same API as a OneDeviceStrategy, none of its overhead
    return tf.distribute.get_strategy()


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes checkpoints, summaries and images (one per cluster)."""
    return strategy.extended.should_checkpoint


def distributed_step(model, strategy: tf.distribute.Strategy, iterator,
                     jit_compile: bool = False) -> Callable[[], dict]:
    """One global training step: every replica's `Pix2Pix.update` on its next batch, then
    the replicas' mean losses into the loss averages. Call it inside a tf.function.

    Returns the step's images, each replica's concatenated, for display.
    """
    if jit_compile and strategy.num_replicas_in_sync > 1:
        # XLA cannot compile the optimisers' cross-replica update inside the step
        raise UsageError("--xla works on one device only, not with several replicas")
    replica_step = tf.function(model.update, jit_compile=True) if jit_compile \
        else model.update
    loss_scale = 1.0 / strategy.num_replicas_in_sync

    def step() -> dict:
        result = strategy.run(replica_step, args=(next(iterator),),
                              kwargs={"loss_scale": loss_scale})
        model.update_loss_ema(strategy.reduce("MEAN", result.pop("losses"), axis=None))
        model.update_generator_ema()
        return {kind: tf.concat(strategy.experimental_local_results(value), axis=0)
                for kind, value in result.items()}

    return step
