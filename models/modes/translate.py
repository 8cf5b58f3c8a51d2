"""`--mode translate`: every image in a folder (or one image) through a trained model, an
export or a training folder, writing images/ and index.html."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from models.core.errors import UsageError, file_errors
from models.core.imageio import image_files
from models.core.options import Options
from models.core.results import check_fresh, write_translations
from models.modes.checkpoints import trained_options
from models.modes.export import translator
from models.serving.savedmodel import ImageTranslator, saved_model_dir


def translate(options: Options) -> None:
    """Every image in --input_dir (or the one image it names) through the model in
    --checkpoint (an export or a training folder) => images/ and index.html."""
    input_path, output_dir = options.input_dir, options.output_dir
    if input_path is None:
        raise UsageError("--mode translate needs --input_dir: an image or a folder of them")
    check_fresh(output_dir, options.overwrite, "translations")
    paths = image_files(input_path)
    source = options.trained_model
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
