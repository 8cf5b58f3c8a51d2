"""The exportable translator: a trained generator wrapped with its pre- and post-processing.

`Translator` is a tf.Module whose tf.functions do everything in the graph (decode, resize,
generate, encode), so `tf.saved_model.save` writes a SavedModel that plain TensorFlow (or TF
Serving) runs with no code from this repository. Test mode, export, translate and serve all
use `Preprocessing` from models/data.py, so they make the same images.
"""

from __future__ import annotations

import os

import tensorflow as tf

from models.data import Preprocessing

SERVING = "serving_default"  # encoded images in, encoded images out
FLOAT = "float_images"  # [n, crop, crop, 3] floats in [0, 1] in and out


class Translator(tf.Module):
    """Images in, translated images out; every image on its own (a batch of one), as test
    mode runs it, since the generator normalises with the statistics of its batch."""

    def __init__(self, generator, prep: Preprocessing, filetype: str = "png"):
        super().__init__(name="translator")
        self.generator = generator
        # Keras's SeedGenerator is no tf.Module, so its state (dropout's noise sequence)
        # would go unsaved; listing every variable here tracks it. It advances per call.
        self.generator_variables = list(generator.variables)
        self._prep = prep
        self._encode = tf.io.encode_png if filetype == "png" else tf.io.encode_jpeg
        crop = prep.crop_size
        self.serve = tf.function(self._serve, input_signature=[
            tf.TensorSpec([None], tf.string, name="image"),
            tf.TensorSpec([None], tf.string, name="key")])
        self.translate_floats = tf.function(self._translate_floats, input_signature=[
            tf.TensorSpec([None, crop, crop, 3], tf.float32, name="images")])

    def signatures(self) -> dict:
        return {SERVING: self.serve, FLOAT: self.translate_floats}

    def _generate(self, image):
        """One uint8 or [0, 1] float image of any size => model input and output, batch 1."""
        inputs = self._prep.single(image)[tf.newaxis]
        return inputs, self.generator(inputs, training=False)

    def _translate_one(self, encoded):
        image = tf.io.decode_image(encoded, channels=3, expand_animations=False)
        inputs, outputs = self._generate(image)
        # Back to the input's aspect ratio: height crop_size, width to match.
        shape = tf.cast(tf.shape(image), tf.float32)
        width = tf.maximum(1, tf.cast(tf.round(self._prep.crop_size * shape[1] / shape[0]),
                                      tf.int32))
        return self._encode(self._prep.to_uint8(outputs, self._prep.brightness(inputs), width)[0])

    def _serve(self, image, key):
        translated = tf.map_fn(self._translate_one, image,
                               fn_output_signature=tf.TensorSpec([], tf.string))
        return {"key": tf.identity(key), "image_bytes": translated}

    def _translate_floats(self, images):
        def one(image):
            inputs, outputs = self._generate(image)
            return self._prep.to_rgb(outputs, self._prep.brightness(inputs))[0]

        return {"images": tf.map_fn(one, images)}


def save(translator: Translator, path: str) -> None:
    tf.saved_model.save(translator, path, signatures=translator.signatures())


def saved_model_dir(path: str) -> str | None:
    """The SavedModel in `path`: path itself, or its highest numbered version folder
    (TF Serving's layout); None if there is none."""
    if os.path.exists(os.path.join(path, "saved_model.pb")):
        return path
    versions = sorted((int(name) for name in os.listdir(path) if name.isdigit()),
                      reverse=True) if os.path.isdir(path) else []
    for version in versions:
        if os.path.exists(os.path.join(path, str(version), "saved_model.pb")):
            return os.path.join(path, str(version))
    return None


class ImageTranslator:
    """A serving function (a Translator's, or a loaded SavedModel's) as a Python call:
    encoded images in, (keys, encoded translations) out."""

    def __init__(self, serve, path: str | None = None):
        self._serve = serve
        self.path = path  # the SavedModel's folder, when loaded from one

    @classmethod
    def load(cls, path: str) -> ImageTranslator:
        """The SavedModel exported to `path`, with plain tf.saved_model.load."""
        model_dir = saved_model_dir(path)
        if model_dir is None:
            raise OSError(f"{path}: holds no SavedModel (saved_model.pb, or a version "
                          "folder like 1/ with one)")
        return cls(tf.saved_model.load(model_dir).signatures[SERVING], model_dir)

    def __call__(self, images: list[bytes], keys: list[str] | None = None):
        """Raises ValueError for bytes that are not an image."""
        keys = keys if keys is not None else [str(i) for i in range(len(images))]
        try:
            result = self._serve(image=tf.constant(images, tf.string),
                                 key=tf.constant(keys, tf.string))
        except tf.errors.InvalidArgumentError as error:
            reason = error.message.strip().splitlines()[0]
            raise ValueError(f"not an image TensorFlow can decode: {reason}") from None
        return ([key.decode() for key in result["key"].numpy()],
                list(result["image_bytes"].numpy()))
