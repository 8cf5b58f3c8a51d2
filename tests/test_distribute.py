"""Data parallelism without a GPU: two logical CPU devices, and two worker processes.

Why: CI has no GPU, and a one-device run never goes through a strategy's reductions or
the workers' shared checkpoints.

Each check runs in a fresh Python process: the logical devices and the collective
ops must be set up before TensorFlow starts, which other tests have already done.
"""

import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import tensorflow as tf
from helpers import REPO

# One mirrored step on 2 replicas x 2 images against the same step done by hand on one
# device. Per-replica batch norm: the mean of the two half-batches' gradients, applied
# once. Synchronised batch norm (SYNC_NORM = True): the gradient of one batch of four.
MIRRORED_STEP = textwrap.dedent("""
    import numpy as np
    import tensorflow as tf
    from keras.optimizers import SGD
    from models.nn.build import build_pix2pix
    from models.modes.distribute import distributed_step, make_strategy
    from models.nn.layers import InferenceDropout
    from models.core.options import Options
    from models.nn.losses import GAN_LOSSES, l1_loss

    strategy = make_strategy("mirrored", cpu_devices=2)
    assert strategy.num_replicas_in_sync == 2
    # both gradients from the weights before either update, as the sum by hand below
    options = Options(flip=False, seed=3, sync_batch_norm=SYNC_NORM,
                      update_order="simultaneous")

    def build():
        tf.keras.utils.set_random_seed(3)
        model = build_pix2pix(options)
        for layer in model.generator.layers:  # the same (no) dropout on every replica
            if isinstance(layer, InferenceDropout):
                layer.rate = 0.0
        # Plain SGD at rate 1 moves the weights by exactly the gradients it is given
        # (Adam's first step would hide a factor: it moves by lr * sign(gradient)).
        model.gen_optimizer, model.disc_optimizer = SGD(1.0), SGD(1.0)
        model.gen_optimizer.build(model.generator.trainable_variables)
        model.disc_optimizer.build(model.discriminator.trainable_variables)
        return model

    with strategy.scope():
        mirrored = build()
    single = build()
    # Two images per replica: with one, synchronised batch norm at the 1x1 level would
    # normalise two values, a gradient so ill-conditioned that rounding alone moves it.
    images = tf.random.stateless_uniform([4, 64, 64, 3], [1, 2], -1, 1)
    targets = tf.random.stateless_uniform([4, 64, 64, 3], [3, 4], -1, 1)
    dataset = tf.data.Dataset.from_tensors((images, targets)).repeat()
    step = tf.function(distributed_step(
        mirrored, strategy, iter(strategy.experimental_distribute_dataset(dataset))))
    step()

    d_vars = single.discriminator.trainable_variables
    g_vars = single.generator.trainable_variables
    d_sum, g_sum = [0.0] * len(d_vars), [0.0] * len(g_vars)
    batches = [slice(0, 4)] if SYNC_NORM else [slice(0, 2), slice(2, 4)]
    for part in batches:
        with tf.GradientTape(persistent=True) as tape:
            outputs, real, fake = single.forward(images[part], targets[part])
            loss = GAN_LOSSES["vanilla"]
            d_loss = loss.discriminator(real, fake)
            g_loss = loss.generator(fake) + 100.0 * l1_loss(targets[part], outputs)
        d_sum = [s + g for s, g in zip(d_sum, tape.gradient(d_loss, d_vars))]
        g_sum = [s + g for s, g in zip(g_sum, tape.gradient(g_loss, g_vars))]
    single.disc_optimizer.apply([g / len(batches) for g in d_sum], d_vars)
    single.gen_optimizer.apply([g / len(batches) for g in g_sum], g_vars)

    worst_gap = worst_error = 0.0
    def weights(model):
        return model.generator.weights + model.discriminator.weights

    for mine, theirs in zip(weights(mirrored), weights(single)):
        replicas = [v.numpy() for v in strategy.experimental_local_results(mine.value)]
        worst_gap = max(worst_gap, np.abs(replicas[0] - replicas[1]).max())
        worst_error = max(worst_error, np.abs(replicas[0] - theirs.numpy()).max())
    print("gap", worst_gap, "error", worst_error, "steps", mirrored.step)
""")


def python(code: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=REPO, timeout=300, check=False, **kwargs)


@pytest.mark.parametrize("sync_norm", [False, True], ids=["per_replica_norm", "sync_norm"])
def test_mirrored_step_applies_the_gradient_of_the_global_batch(sync_norm):
    result = python(MIRRORED_STEP.replace("SYNC_NORM", str(sync_norm)))
    assert result.returncode == 0, result.stderr[-3000:]
    gap, error, steps = re.search(r"gap (\S+) error (\S+) steps (\d+)", result.stdout).groups()
    assert float(gap) == 0.0  # replicas hold the very same weights
    # Float rounding (up to about 2e-5 with sync norm, whose statistics are summed in
    # another order than the fused kernel's); summing instead of averaging, or per-replica
    # statistics where sync was asked for, miss by 1 or more.
    assert float(error) < 1e-4
    assert steps == "1"


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def start_workers(run: Path, pairs: Path, *flags: str) -> list[subprocess.Popen]:
    """Two multi_worker training processes on 127.0.0.1, the chief first."""
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}
    command = [sys.executable, str(REPO / "pix2pix.py"), "--mode", "train",
               "--strategy", "multi_worker", "--input_dir", str(pairs),
               "--output_dir", str(run), "--seed", "5", *flags]
    return [subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env={**os.environ, "PYTHONUNBUFFERED": "1",
                                             "TF_CONFIG": json.dumps({"cluster": cluster, "task": {
                                                 "type": "worker", "index": i}})})
            for i in range(2)]


def finish(workers: list[subprocess.Popen]) -> list[str]:
    """Each worker's stdout, once all have exited cleanly."""
    outputs = [worker.communicate(timeout=300) for worker in workers]
    for worker, (_, stderr) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, stderr[-3000:]
    return [stdout for stdout, _ in outputs]


def digests(outputs: list[str]) -> list[str]:
    return [re.search(r"weights digest (\w+)", stdout).group(1) for stdout in outputs]


def test_two_workers_train_in_step_and_the_chief_saves(tmp_path, data):
    run = tmp_path / "run"
    outputs = finish(start_workers(run, data.sketches / "Combine", "--max_steps", "4",
                                   "--progress_freq", "2", "--summary_freq", "2",
                                   "--save_freq", "0"))
    assert digests(outputs)[0] == digests(outputs)[1]
    assert "replicas = 2, global batch = 2" in outputs[0]
    assert sorted(p.name for p in run.glob("ckpt-*.index")) == ["ckpt-4.index"]
    assert len(list(run.glob("events.out.tfevents.*"))) == 1


def test_after_a_worker_dies_rerunning_resumes_from_the_last_checkpoint(
        tmp_path, data):
    run = tmp_path / "run"
    workers = start_workers(run, data.sketches / "Combine", "--max_steps", "100000",
                            "--save_freq", "3")
    deadline = time.monotonic() + 300
    while tf.train.latest_checkpoint(str(run)) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    workers[1].kill()  # the other worker dies mid-training...
    time.sleep(1)
    workers[0].kill()  # ...and the job is stopped, as a scheduler would
    for worker in workers:
        worker.communicate(timeout=60)
    saved = int(re.search(r"ckpt-(\d+)", tf.train.latest_checkpoint(str(run))).group(1))
    assert saved > 0 and saved % 3 == 0

    outputs = finish(start_workers(run, data.sketches / "Combine", "--checkpoint", str(run),
                                   "--max_steps", str(saved + 2), "--save_freq", "0"))
    for stdout in outputs:
        assert f"resuming from step {saved}" in stdout
        assert f"done: {saved + 2} steps" in stdout
    assert digests(outputs)[0] == digests(outputs)[1]
    assert tf.train.latest_checkpoint(str(run)).endswith(f"ckpt-{saved + 2}")
