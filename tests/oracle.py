"""The original pix2pix-tensorflow script as a test oracle, in a process of its own.

    python tests/oracle.py SCRIPT OUT --dropout off|MASKS.npz --steps N -- ORIGINAL_FLAGS

Imports the original (tools/original.py's renamed copy; the flags after -- are its own),
builds its graph with its own load_examples and create_model, starts from its seeded
initial weights and writes, as the original's own Saver would: `OUT/step-0`, `OUT/step-1`
and `OUT/step-N` (checkpoint + the original's options.json), and `OUT/oracle.npz` with the
preprocessed inputs and targets, G's output, D's outputs and the three raw losses of the
first step, and the file names, inputs, targets and losses of every step (its queue
shuffles the files: the port takes the batches in the order the original took them).

Dropout is TensorFlow's `tf.nn.dropout`, which the original calls for its decoder: it is
replaced in this process (the script is not touched) by the identity (`off`) or by the
given keep masks, multiplied as TensorFlow does, the same masks on every step.

With `--main`, runs the original's own main() instead (its test mode, say), with the
same dropout replacement.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import tensorflow.compat.v1 as tf

from tools.original import prepared_copy

LOSSES = ("discriminator_loss/Mean:0", "generator_loss/Mean:0", "generator_loss/Mean_1:0")


def replace_dropout(masks: np.lib.npyio.NpzFile | None) -> None:
    """tf.nn.dropout as the identity (`masks` None), or with the next of `masks`."""
    calls = []

    def dropout(x, keep_prob=None, **_):
        if masks is None:
            return x
        mask = masks[f"mask_{len(calls)}"]
        calls.append(mask)
        return x * (1 / keep_prob) * tf.constant(mask, x.dtype)

    tf.nn.dropout = dropout


def import_original(script: Path, folder: Path, flags: list[str]):
    copy = prepared_copy(script, folder)
    sys.argv = [str(copy), *flags]
    spec = importlib.util.spec_from_file_location("original_pix2pix", copy)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def save(session, saver, module, out: Path, step: int) -> None:
    folder = out / f"step-{step}"
    folder.mkdir(parents=True, exist_ok=True)
    saver.save(session, str(folder / "model"), global_step=step)
    (folder / "options.json").write_text(json.dumps(vars(module.a), sort_keys=True, indent=4))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("script", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--dropout", default="off")
    parser.add_argument("--steps", type=int, default=1)
    parser.add_argument("--main", action="store_true")
    split = sys.argv.index("--")
    args = parser.parse_args(sys.argv[1:split])
    original_flags = sys.argv[split + 1:]
    tf.disable_v2_behavior()
    replace_dropout(None if args.dropout == "off" else np.load(args.dropout))
    folder = Path(tempfile.mkdtemp(prefix="oracle-"))
    try:
        module = import_original(args.script, folder, original_flags)
        if args.main:
            module.main()
            return
        train(module, args.out, args.steps)
    finally:
        shutil.rmtree(folder)


def train(module, out: Path, steps: int) -> None:
    tf.set_random_seed(module.a.seed)
    examples = module.load_examples()
    model = module.create_model(examples.inputs, examples.targets)
    graph = tf.get_default_graph()
    losses = [graph.get_tensor_by_name(name) for name in LOSSES]
    saver = tf.train.Saver(max_to_keep=None)  # one folder per save: keep them all
    first = {"inputs": examples.inputs, "targets": examples.targets,
             "outputs": model.outputs, "predict_real": model.predict_real,
             "predict_fake": model.predict_fake, "losses": losses}
    with tf.Session() as session:
        session.run(tf.global_variables_initializer())
        coordinator = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(session, coordinator)
        save(session, saver, module, out, 0)
        record, every_step = {}, {"losses": [], "inputs": [], "targets": [], "paths": []}
        for step in range(1, steps + 1):
            fetched = session.run({**first, "paths": examples.paths, "train": model.train})
            fetched["paths"] = [path.decode() for path in fetched["paths"]]
            for key, values in every_step.items():
                values.append(fetched[key])
            if step == 1:
                record = {key: np.asarray(value) for key, value in fetched.items()
                          if key != "train"}
            if step in (1, steps):
                save(session, saver, module, out, step)
        coordinator.request_stop()
        coordinator.join(threads)
    np.savez(out / "oracle.npz", **record,
             **{f"step_{key}": np.asarray(values) for key, values in every_step.items()})


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    main()
