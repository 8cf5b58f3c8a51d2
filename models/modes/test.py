"""`--mode test`: a trained generator over a folder of A|B pairs, writing images/,
index.html and the scores against the targets (metrics.json)."""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from models.core.options import Options
from models.core.results import (
    append_index,
    check_fresh,
    format_metrics,
    save_images,
    score,
    start_index,
    write_metrics,
)
from models.core.styles import PENCIL, restyle
from models.modes.checkpoints import load_generator, trained_options
from models.nn.data import Preprocessing, load_examples, test_dataset


def test(options: Options) -> None:
    """Every A|B pair in --input_dir translated and scored against its target."""
    options = trained_options(options)
    output_dir = options.output_dir
    check_fresh(output_dir, options.overwrite, "test results")
    names, images = load_examples(options, options.input_dir)
    if options.input_style != PENCIL:
        images = restyle(images, options.which_direction, options.input_style, options.seed)
    prep = Preprocessing(options)
    labels = options.label_set
    labels.check_flag(options.label, options.checkpoint)
    label_indices = None
    if labels:
        label_indices = [labels.index(label) for label in labels.of_names(names, options.label)]
    generator = load_generator(options)
    options.save(output_dir)
    start_index(output_dir)

    @tf.function
    def translate_batch(inputs, targets) -> dict:
        brightness = prep.brightness(inputs, targets)
        return {"inputs": prep.to_uint8(prep.image_part(inputs), brightness),
                "outputs": prep.to_uint8(generator(inputs, training=False), brightness),
                "targets": prep.to_uint8(targets, brightness)}

    all_names, all_outputs, all_targets = [], [], []
    batches = test_dataset(names, images, prep, options.batch_size, label_indices)
    for name_tensors, inputs, targets in batches:
        shown = {kind: batch.numpy() for kind, batch in translate_batch(inputs, targets).items()}
        batch_names = [name.decode() for name in name_tensors.numpy()]
        rows = save_images(os.path.join(output_dir, "images"), batch_names, shown,
                           options.output_filetype)
        index_path = append_index(output_dir, rows)
        for name in batch_names:
            print(f"{len(all_names) + 1} evaluated image {name}")
            all_names.append(name)
        all_outputs.append(shown["outputs"])
        all_targets.append(shown["targets"])
    print(f"wrote index at {index_path}")
    metrics = write_metrics(output_dir, all_names,
                            score(np.concatenate(all_outputs), np.concatenate(all_targets)))
    print(format_metrics(metrics))
