"""The speed baseline: the original TF1 graph (Liao's 64x64 pix2pix), rebuilt here under
tf.compat.v1 and timed on this machine, so our training speed is compared on the same CPU.

    python tools/benchmark_tf1.py                 # TF1's default threads
    python tools/benchmark_tf1.py --intra 1 --inter 2

It builds the same graph as the original (pad + "valid" convs, moments batch norm, the
abs-form leaky ReLU, TF1's Adam with D's update before G's, the loss EMAs) on one fixed
random pair, and prints one JSON line: parameter count and training images/sec.
"""

from __future__ import annotations

from models import terminal  # noqa: F401  (first: TensorFlow without its start-up noise)

# isort: split
import json
import time

import numpy as np
import tensorflow.compat.v1 as tf

from tools.toolbox import Parser

EPS = 1e-12
INIT = tf.random_normal_initializer(0, 0.02)


def conv(x, channels: int, stride: int):
    kernel = tf.get_variable("filter", [4, 4, x.shape[3], channels], initializer=INIT)
    return tf.nn.conv2d(tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]), kernel,
                        [1, stride, stride, 1], "VALID")


def deconv(x, channels: int):
    batch, height, width, in_channels = (int(d) for d in x.shape)
    kernel = tf.get_variable("filter", [4, 4, channels, in_channels], initializer=INIT)
    return tf.nn.conv2d_transpose(x, kernel, [batch, height * 2, width * 2, channels],
                                  [1, 2, 2, 1], "SAME")


def lrelu(x, slope: float = 0.2):
    return (0.5 * (1 + slope)) * x + (0.5 * (1 - slope)) * tf.abs(x)


def batchnorm(x):
    offset = tf.get_variable("offset", [x.shape[3]], initializer=tf.zeros_initializer)
    scale = tf.get_variable("scale", [x.shape[3]],
                            initializer=tf.random_normal_initializer(1.0, 0.02))
    mean, variance = tf.nn.moments(x, [0, 1, 2])
    return tf.nn.batch_normalization(x, mean, variance, offset, scale, 1e-5)


def generator(x, ngf: int):
    skips = []
    with tf.variable_scope("encoder_1"):
        skips.append(conv(x, ngf, 2))
    for level, width in enumerate([ngf * 2, ngf * 4, ngf * 8, ngf * 8, ngf * 8], start=2):
        with tf.variable_scope(f"encoder_{level}"):
            skips.append(batchnorm(conv(lrelu(skips[-1]), width, 2)))
    x = skips[-1]
    decoder = [(ngf * 8, 0.5), (ngf * 8, 0.5), (ngf * 8, 0.5), (ngf * 4, 0.0), (ngf * 2, 0.0)]
    for index, (width, dropout) in enumerate(decoder):
        with tf.variable_scope(f"decoder_{index}"):
            if index:
                x = tf.concat([x, skips[-1 - index]], 3)
            x = batchnorm(deconv(tf.nn.relu(x), width))
            if dropout:
                x = tf.nn.dropout(x, rate=dropout)
    with tf.variable_scope("decoder_last"):
        return tf.tanh(deconv(tf.nn.relu(tf.concat([x, skips[0]], 3)), 3))


def discriminator(inputs, targets, ndf: int):
    with tf.variable_scope("layer_1"):
        x = lrelu(conv(tf.concat([inputs, targets], 3), ndf, 2))
    with tf.variable_scope("layer_2"):
        x = lrelu(batchnorm(conv(x, ndf * 2, 1)))
    with tf.variable_scope("layer_3"):
        return tf.sigmoid(conv(x, 1, 1))


def main() -> None:
    parser = Parser(prog="benchmark_tf1.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--intra", type=int, default=0, help="intra-op threads (0: TF's)")
    parser.add_argument("--inter", type=int, default=0, help="inter-op threads (0: TF's)")
    parser.add_argument("--steps", type=int, default=1000, help="timed steps")
    args = parser.parse_args()

    tf.disable_v2_behavior()
    rng = np.random.default_rng(0)
    inputs, targets = (tf.constant(rng.uniform(-1, 1, [1, 64, 64, 3]).astype("float32"))
                       for _ in range(2))
    with tf.variable_scope("generator"):
        outputs = generator(inputs, 16)
    with tf.variable_scope("discriminator"):
        predict_real = discriminator(inputs, targets, 16)
    with tf.variable_scope("discriminator", reuse=True):
        predict_fake = discriminator(inputs, outputs, 16)
    discrim_loss = tf.reduce_mean(-(tf.log(predict_real + EPS) + tf.log(1 - predict_fake + EPS)))
    gen_loss_gan = tf.reduce_mean(-tf.log(predict_fake + EPS))
    gen_loss_l1 = tf.reduce_mean(tf.abs(targets - outputs))
    variables = {scope: tf.trainable_variables(scope) for scope in ("generator", "discriminator")}
    discrim_train = tf.train.AdamOptimizer(2e-4, 0.5).minimize(
        discrim_loss, var_list=variables["discriminator"])
    with tf.control_dependencies([discrim_train]):
        gen_train = tf.train.AdamOptimizer(2e-4, 0.5).minimize(
            gen_loss_gan + 100 * gen_loss_l1, var_list=variables["generator"])
    update_losses = tf.train.ExponentialMovingAverage(0.99).apply(
        [discrim_loss, gen_loss_gan, gen_loss_l1])
    train = tf.group(update_losses, gen_train)

    config = tf.ConfigProto(intra_op_parallelism_threads=args.intra,
                            inter_op_parallelism_threads=args.inter)
    with tf.Session(config=config) as session:
        session.run(tf.global_variables_initializer())
        for _ in range(100):  # warm-up
            session.run(train)
        start = time.time()
        for _ in range(args.steps):
            session.run(train)
        rate = args.steps / (time.time() - start)
    count = sum(int(np.prod(v.shape)) for v in tf.trainable_variables())
    print(json.dumps({"parameter_count": count, "train_images_per_sec": round(rate, 1),
                      "intra_op_threads": args.intra, "inter_op_threads": args.inter}))


if __name__ == "__main__":
    main()
