"""Data parallelism without a GPU: two logical CPU devices, and two worker processes.

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
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# One mirrored step on 2 replicas x 1 image against the same step done by hand on one
# device: the mean of the two single-image gradients, applied once.
MIRRORED_STEP = textwrap.dedent("""
    import numpy as np
    import tensorflow as tf
    from keras.optimizers import SGD
    from models import build_pix2pix
    from models.distribute import distributed_step, make_strategy
    from models.layers import InferenceDropout
    from models.pix2pix import discriminator_loss, generator_losses

    strategy = make_strategy("mirrored", cpu_devices=2)
    assert strategy.num_replicas_in_sync == 2
    options = dict(which_direction="BtoA", lab_colorization=False, crop_size=64,
                   scale_size=64, flip=False, aspect_ratio=1.0, ngf=16, ndf=16, n_layers_d=1,
                   decoder="auto", separable_conv=False, inference_dropout=True, seed=3,
                   lr=2e-4, beta1=0.5, l1_weight=100.0, gan_weight=1.0)

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
    images = tf.random.stateless_uniform([2, 64, 64, 3], [1, 2], -1, 1)
    targets = tf.random.stateless_uniform([2, 64, 64, 3], [3, 4], -1, 1)
    dataset = tf.data.Dataset.from_tensors((images, targets)).repeat()
    step = tf.function(distributed_step(
        mirrored, strategy, iter(strategy.experimental_distribute_dataset(dataset))))
    step()

    d_vars = single.discriminator.trainable_variables
    g_vars = single.generator.trainable_variables
    d_sum, g_sum = [0.0] * len(d_vars), [0.0] * len(g_vars)
    for i in range(2):
        with tf.GradientTape(persistent=True) as tape:
            outputs, real, fake = single.forward(images[i:i + 1], targets[i:i + 1])
            gan, l1 = generator_losses(fake, targets[i:i + 1], outputs)
            d_loss, g_loss = discriminator_loss(real, fake), gan + 100.0 * l1
        d_sum = [s + g for s, g in zip(d_sum, tape.gradient(d_loss, d_vars))]
        g_sum = [s + g for s, g in zip(g_sum, tape.gradient(g_loss, g_vars))]
    single.disc_optimizer.apply([g / 2 for g in d_sum], d_vars)
    single.gen_optimizer.apply([g / 2 for g in g_sum], g_vars)

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


def test_mirrored_step_applies_the_mean_of_the_replicas_gradients():
    result = python(MIRRORED_STEP)
    assert result.returncode == 0, result.stderr[-3000:]
    gap, error, steps = re.search(r"gap (\S+) error (\S+) steps (\d+)", result.stdout).groups()
    assert float(gap) == 0.0  # replicas hold the very same weights
    assert float(error) < 1e-5  # float rounding; summing instead of averaging fails by far
    assert steps == "1"


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def test_two_workers_train_in_step_and_the_chief_saves(tmp_path, sketchtoface_dir):
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}
    command = [sys.executable, str(REPO / "pix2pix.py"), "--mode", "train",
               "--strategy", "multi_worker", "--input_dir",
               str(sketchtoface_dir / "sketches" / "Combine"), "--output_dir",
               str(tmp_path / "run"), "--max_steps", "4", "--seed", "5", "--progress_freq",
               "2", "--summary_freq", "2", "--save_freq", "0"]
    workers = [subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env={**os.environ, "TF_CONFIG": json.dumps(
                                    {"cluster": cluster, "task": {"type": "worker", "index": i}})})
               for i in range(2)]
    outputs = [worker.communicate(timeout=300) for worker in workers]
    for worker, (_, stderr) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, stderr[-3000:]
    digests = [re.search(r"weights digest (\w+)", stdout).group(1) for stdout, _ in outputs]
    assert digests[0] == digests[1]
    assert "replicas = 2, global batch = 2" in outputs[0][0]
    assert sorted(p.name for p in (tmp_path / "run").glob("ckpt-*.index")) == ["ckpt-4.index"]
    assert len(list((tmp_path / "run").glob("events.out.tfevents.*"))) == 1
