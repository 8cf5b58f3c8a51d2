"""`--mode test` and `--mode translate`: a trained generator over a folder of images,
writing images/ and index.html (test also scores against the targets)."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import tensorflow as tf

from models.checkpoints import load_generator, trained_options
from models.core.errors import UsageError, file_errors
from models.core.imageio import image_files
from models.core.options import Options
from models.core.results import (
    append_index,
    check_fresh,
    format_metrics,
    save_images,
    score,
    start_index,
    write_metrics,
    write_translations,
)
from models.core.styles import PENCIL, restyle
from models.export import ImageTranslator, saved_model_dir, translator
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


def translate(options: Options) -> None:
    """Every image in --input_dir (or the one image it names) through the model in
    --checkpoint (an export or a training folder) => images/ and index.html."""
    input_path, output_dir = options.input_dir, options.output_dir
    if input_path is None:
        raise UsageError("--mode translate needs --input_dir: an image or a folder of them")
    check_fresh(output_dir, options.overwrite, "translations")
    paths = image_files(input_path)
    source = options.checkpoint or "sketches_train"
    if saved_model_dir(source):
        model = ImageTranslator.load(source)
    else:
        model = ImageTranslator.wrap(translator(trained_options(options)))
    labels = model.labels.of_files(paths, options.label, source)

    def translate_file(path: Path, image: np.ndarray, label: str | None):
        # The SavedModel decodes the file's own bytes, as a client of it would
        with file_errors(path):
            encoded_input = path.read_bytes()
        try:
            _, (encoded,) = model([encoded_input], labels=label and [label])
        except UsageError as error:
            raise UsageError(f"{path}: {error}") from None
        return cv2.cvtColor(cv2.imdecode(np.frombuffer(encoded, np.uint8), cv2.IMREAD_COLOR),
                            cv2.COLOR_BGR2RGB)

    write_translations(output_dir, paths, labels, options.output_filetype, translate_file)
