"""`--mode export`: the trained generator in --checkpoint as a SavedModel
(models/serving/savedmodel.py) and, with --format onnx, as ONNX
(models/serving/onnx_model.py)."""

from __future__ import annotations

import os
import shutil

import tensorflow as tf

from models.core.errors import UsageError, file_errors
from models.core.options import Options
from models.modes.checkpoints import load_generator, trained_options
from models.nn.data import Preprocessing
from models.serving.onnx_model import (
    FLOAT16_TOLERANCE,
    GREY_LEVEL,
    ONNX_DIR,
    converter,
    write_onnx,
)
from models.serving.savedmodel import Translator, save, write_description


def translator(options: Options) -> Translator:
    """The trained generator in --checkpoint with the pre- and post-processing around it
    (`options`: as trained_options gives them)."""
    return Translator(load_generator(options), Preprocessing(options), options.output_filetype,
                      swap_rb=options.swap_rb)


def export(options: Options) -> None:
    """A SavedModel in OUTPUT_DIR/1 (TF Serving's versioned layout) with its description
    in it, options.json beside; with --format onnx, OUTPUT_DIR/onnx/ too."""
    version_dir = os.path.join(options.output_dir, "1")
    if os.path.exists(version_dir) and not options.overwrite:
        raise UsageError(f"--output_dir {options.output_dir} already holds an export; "
                         "choose another folder or pass --overwrite")
    if options.format == "onnx":
        converter()  # the optional extra is installed, before anything is written
    options = trained_options(options)
    module = translator(options)
    partial = version_dir + ".partial"  # a half-written export is never left as 1/
    with file_errors(partial):
        shutil.rmtree(partial, ignore_errors=True)
        try:
            save(module, partial)
        except tf.errors.OpError as error:  # e.g. an unwritable folder, seen by TensorFlow
            raise UsageError(f"{partial}: {error.message.strip().splitlines()[0]}") from None
        write_description(partial, options.description)
        shutil.rmtree(version_dir, ignore_errors=True)
        os.replace(partial, version_dir)
    options.save(options.output_dir)
    print(f"exported {version_dir}")
    if options.format == "onnx":
        folder = os.path.join(options.output_dir, ONNX_DIR)
        info = write_onnx(module, folder, options)
        print(f"exported {folder} ({info['weights']} weights, within "
              f"{info['max_difference_grey_levels']:.3f} grey levels of TensorFlow; "
              f"float16 weights: {info['float16_difference_grey_levels']:.3f}, kept up to "
              f"{FLOAT16_TOLERANCE / GREY_LEVEL:.1f})")
