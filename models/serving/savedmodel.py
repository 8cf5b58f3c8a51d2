"""The SavedModel: a trained generator wrapped with its pre- and post-processing, and
run again once loaded.

`Translator` is a tf.Module whose tf.functions do everything in the graph (decode, resize,
generate, encode), so `tf.saved_model.save` writes a SavedModel that plain TensorFlow (or TF
Serving) runs with no code from this repository; its `onnx_function` is the same translation
for converters (models/serving/onnx_model.py). `ImageTranslator` calls a Translator, or a
loaded SavedModel, from Python (translate mode, tools/serve.py). Test mode, export, translate
and serve all use `Preprocessing` from models/nn/data.py, so they make the same images.
"""

from __future__ import annotations

import json
import os
import threading

import numpy as np
import tensorflow as tf

from models.core.errors import UsageError, file_errors
from models.core.imageio import over_white
from models.core.labels import Labels
from models.nn.data import Preprocessing
from models.nn.layers import dropout_layers, for_converters

SERVING = "serving_default"  # encoded images in, encoded images out
FLOAT = "float_images"  # [n, crop, crop, 3] floats in [0, 1] in and out
# What export mode writes in the SavedModel's folder about it (Options.description), in
# assets.extra/, which SavedModel loaders and TF Serving leave to higher-level tools
DESCRIPTION = os.path.join("assets.extra", "pix2pix.json")


def decode_rgb(encoded):
    """Encoded image bytes => [h, w, 3] uint8 RGB, in graph ops, exactly as
    models.core.imageio.read_rgb reads a file: grey repeated, transparency onto white, JPEGs
    with libjpeg's accurate integer IDCT (TensorFlow's default, the fast one, differs from
    OpenCV's decoding by up to 18 grey levels on the SketchToFace JPEGs)."""

    def jpeg():
        return tf.io.decode_jpeg(encoded, channels=3, dct_method="INTEGER_ACCURATE")

    def other():
        # The file's own channels (1 grey, 2 grey and alpha, 3 RGB, 4 RGBA), made RGBA
        image = tf.cast(tf.io.decode_image(encoded, expand_animations=False), tf.int32)
        channels = tf.shape(image)[-1]
        colour = tf.gather(image, tf.where(channels < 3, [0, 0, 0], [0, 1, 2]), axis=-1)
        alpha = tf.where(channels % 2 == 0, image[..., -1:], 255)
        return tf.cast(over_white(colour, alpha), tf.uint8)

    return tf.cond(tf.io.is_jpeg(encoded), jpeg, other)


class Translator(tf.Module):
    """Images in, translated images out; every image on its own (a batch of one), as test
    mode runs it, since the generator normalises with the statistics of its batch."""

    def __init__(self, generator, prep: Preprocessing, filetype: str = "png",
                 swap_rb: bool = False):
        super().__init__(name="translator")
        self.generator = generator
        # Keras's SeedGenerator is no tf.Module, so its state (dropout's noise sequence)
        # would go unsaved; listing every variable here tracks it. It advances per call.
        self.generator_variables = list(generator.variables)
        # Saved with the model, so that whoever loads it can list and check the labels
        self.labels = tf.Variable(list(prep.labels.known), dtype=tf.string, trainable=False,
                                  shape=[None], name="labels")
        self.label_pattern = tf.Variable(prep.labels.pattern or "", trainable=False,
                                         name="label_pattern")
        self._prep = prep
        self._swap_rb = swap_rb
        self._encode = tf.io.encode_png if filetype == "png" else tf.io.encode_jpeg
        crop = prep.crop_size
        label_spec = [tf.TensorSpec([None], tf.string, name="label")] if prep.labels else []
        self.serve = tf.function(self._serve, input_signature=[
            tf.TensorSpec([None], tf.string, name="image"),
            tf.TensorSpec([None], tf.string, name="key"), *label_spec])
        self.translate_floats = tf.function(self._translate_floats, input_signature=[
            tf.TensorSpec([None, crop, crop, 3], tf.float32, name="images"), *label_spec])

    def signatures(self) -> dict:
        return {SERVING: self.serve, FLOAT: self.translate_floats}

    def _label_weights(self, label):
        """A label's planes, as Labels.weights gives them for each choice ("" for any)."""
        labels = self._prep.labels
        choices = ["", *labels.known]
        matches = tf.equal(tf.constant(choices), label)
        tf.debugging.assert_equal(
            tf.reduce_any(matches), True,
            message=f"unknown label; this model knows {', '.join(labels.known)}")
        table = tf.constant(np.stack([labels.weights(choice) for choice in choices]))
        return tf.gather(table, tf.argmax(tf.cast(matches, tf.int32)))

    def _generate(self, image, label=None):
        """One uint8 or [0, 1] float image of any size (and its label, for a labelled
        model) => model input and output, batch 1."""
        weights = None if label is None else self._label_weights(label)
        return self._generate_weighted(image, weights)

    def _generate_weighted(self, image, label_weights=None, resized=False):
        """_generate with the label as its planes' weights; `resized` as Preprocessing.single."""
        if self._swap_rb:
            image = image[..., ::-1]  # natural RGB => the training photos' BGR
        inputs = self._prep.single(image, resized)[tf.newaxis]
        if label_weights is not None:
            inputs = self._prep.add_label_weights(inputs, label_weights)
        return inputs, self.generator(inputs, training=False)

    def _rgb(self, outputs, inputs, width=None):
        rgb = self._prep.to_rgb(outputs, self._prep.brightness(inputs), width)[0]
        return rgb[..., ::-1] if self._swap_rb else rgb

    def _translate_one(self, encoded, label=None):
        image = decode_rgb(encoded)
        inputs, outputs = self._generate(image, label)
        # Back to the input's aspect ratio: height crop_size, width to match.
        shape = tf.cast(tf.shape(image), tf.float32)
        width = tf.maximum(1, tf.cast(tf.round(self._prep.crop_size * shape[1] / shape[0]),
                                      tf.int32))
        rgb = self._rgb(outputs, inputs, width)
        return self._encode(tf.image.convert_image_dtype(rgb, tf.uint8, saturate=True))

    def _serve(self, image, key, label=None):
        elements = (image,) if label is None else (image, label)
        translated = tf.map_fn(lambda args: self._translate_one(*args), elements,
                               fn_output_signature=tf.TensorSpec([], tf.string))
        return {"key": tf.identity(key), "image_bytes": translated}

    def _translate_floats(self, images, label=None):
        def one(args):
            inputs, outputs = self._generate(*args)
            return self._rgb(outputs, inputs)

        elements = (images,) if label is None else (images, label)
        return {"images": tf.map_fn(one, elements,
                                    fn_output_signature=tf.TensorSpec(images.shape[1:]))}


    def onnx_inputs(self) -> list[tf.TensorSpec]:
        """What onnx_function takes: the image, [1, crop, crop, 3] RGB in [0, 1],
        resampled to crop size as Preprocessing.augment does (area); for a labelled model
        the label's weights, one per label (one-hot, or uniform for any label); and for
        each dropout layer that runs at inference, uniform noise in [0, 1) of its shape."""
        crop = self._prep.crop_size
        specs = [tf.TensorSpec([1, crop, crop, 3], tf.float32, name="image")]
        if self._prep.labels:
            specs.append(tf.TensorSpec([len(self._prep.labels)], tf.float32, name="label"))
        return specs + [tf.TensorSpec([1, *layer.output.shape[1:]], tf.float32,
                                      name=f"dropout_{index}")
                        for index, layer in enumerate(dropout_layers(self.generator))]

    def onnx_function(self) -> tf.types.experimental.PolymorphicFunction:
        """The translation for runtimes that lack the SavedModel's graph ops (ONNX,
        TensorFlow.js): onnx_inputs in, [1, crop, crop, 3] RGB in [0, 1] out. No
        decoding, resizing or string labels, and the caller draws dropout's noise, since
        converters freeze a seed state that should advance with every call."""
        labelled = bool(self._prep.labels)

        def translate(image, *rest):
            label_weights, noise = (rest[0], rest[1:]) if labelled else (None, rest)
            with for_converters(self.generator, noise):
                inputs, outputs = self._generate_weighted(image[0], label_weights,
                                                          resized=True)
            return self._rgb(outputs, inputs)[tf.newaxis]

        return tf.function(translate, input_signature=self.onnx_inputs())


def save(translator: Translator, path: str) -> None:
    tf.saved_model.save(translator, path, signatures=translator.signatures())


def write_description(path: str, description: dict) -> None:
    """The SavedModel in `path` described (Options.description), for ImageTranslator.load."""
    file = os.path.join(path, DESCRIPTION)
    with file_errors(file):
        os.makedirs(os.path.dirname(file), exist_ok=True)
        with open(file, "w") as out:
            json.dump(description, out, indent=1)


def read_description(model_dir: str) -> dict | None:
    """What export mode wrote about the SavedModel in `model_dir`; None for one from
    elsewhere or from before exports described themselves."""
    file = os.path.join(model_dir, DESCRIPTION)
    if not os.path.isfile(file):
        return None
    with file_errors(file), open(file) as content:
        try:
            return json.load(content)
        except ValueError as error:
            raise UsageError(f"{file}: not an export's description ({error})") from None


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
    encoded images (and labels, for a labelled model) in, (keys, encoded translations) out."""

    def __init__(self, serve, path: str | None = None, labels: Labels | None = None,
                 seed_states: list[tf.Variable] | None = None, description: dict | None = None):
        self._serve = serve
        self.path = path  # the SavedModel's folder, when loaded from one
        self.description = description  # read_description's, when loaded from one
        self.labels = labels or Labels()
        self._seed_states = seed_states or []  # each dropout layer's noise sequence
        # One call at a time: a seeded call's noise must not be advanced by another's
        self._lock = threading.Lock()

    @classmethod
    def wrap(cls, translator: Translator) -> ImageTranslator:
        return cls(translator.serve, None, _labels_of(translator), _seed_states(translator))

    @classmethod
    def load(cls, path: str) -> ImageTranslator:
        """The SavedModel exported to `path`, with plain tf.saved_model.load."""
        model_dir = saved_model_dir(path)
        if model_dir is None:
            raise UsageError(f"{path}: holds no SavedModel (saved_model.pb, or a version "
                             "folder like 1/ with one)")
        try:
            loaded = tf.saved_model.load(model_dir)
        except (OSError, tf.errors.OpError) as error:
            reason = str(error).strip().splitlines()[0]
            raise UsageError(f"{model_dir}: not a SavedModel that loads ({reason})") from None
        return cls(loaded.signatures[SERVING], model_dir, _labels_of(loaded),
                   _seed_states(loaded), read_description(model_dir))

    def __call__(self, images: list[bytes], keys: list[str] | None = None,
                 labels: list[str] | None = None, seed: int | None = None):
        """Raises UsageError for bytes that are not an image, or an unknown label. A seed
        restarts dropout's noise as reseed_dropout does: the same seed, the same outputs."""
        keys = keys if keys is not None else [str(i) for i in range(len(images))]
        inputs = {"image": tf.constant(images, tf.string), "key": tf.constant(keys, tf.string)}
        self.labels.check(labels or [])
        if self.labels:  # "" weighs every label equally
            inputs["label"] = tf.constant(labels or [""] * len(images), tf.string)
        try:
            with self._lock:
                for index, state in enumerate(self._seed_states if seed is not None else []):
                    state.assign([0, seed + index])
                result = self._serve(**inputs)
        except tf.errors.InvalidArgumentError as error:
            # In graph mode the message is "Graph execution error:", the Python stack of
            # the op, then the op's own words and the node: keep those words
            reason = error.message.split("\n\t [[")[0].strip().splitlines()[-1]
            raise UsageError(f"not an image TensorFlow can decode: {reason}") from None
        return ([key.decode() for key in result["key"].numpy()],
                list(result["image_bytes"].numpy()))


def _seed_states(module) -> list[tf.Variable]:
    """The dropout layers' seed states a Translator (or a loaded export of one) tracks,
    in layer order."""
    return [variable for variable in getattr(module, "generator_variables", [])
            if "seed_generator_state" in variable.name]


def _labels_of(module) -> Labels:
    """The labels a Translator (or a loaded export of one) was saved with; exports made
    before labels existed have none."""
    if not hasattr(module, "labels"):
        return Labels()
    return Labels(tuple(label.decode() for label in module.labels.numpy()),
                  module.label_pattern.numpy().decode() or None)
