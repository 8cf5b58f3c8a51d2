"""The exported model for runtimes without TensorFlow: ONNX, for onnxruntime-web in a
browser (the static site, tools/serve.py --site) and onnxruntime in Python
(tools/translate.py).

`write_onnx` converts a Translator's onnx_function (see models/serving/savedmodel.py:
one image at crop size, label weights, dropout noise drawn by the caller) with tf2onnx, and writes
model.json beside it: what a runtime needs to feed the model. `OnnxTranslator` runs it in
Python, resampling as the SavedModel does. This module imports no TensorFlow itself, so
that OnnxTranslator starts in a fraction of a second. tf2onnx and onnxruntime are the
optional extra `pip install -e ".[onnx]"`.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import numpy as np

from models.core.errors import UsageError, file_errors
from models.core.imageio import INPUT_RESIZE
from models.core.labels import Labels

OPSET = 17
ONNX_DIR = "onnx"  # in an export's folder, beside the SavedModel's version folder
MODEL_FILE = "model.onnx"
INFO_FILE = "model.json"
GREY_LEVEL = 1 / 255
# [0, 1] to 8 bits as TensorFlow's convert_image_dtype(saturate=True): floor(x * 255.5);
# model.json carries it to the browser
UINT8_SCALE = 255.5
# float16 weights halve the file; they are kept only when the outputs stay this close to
# float32's (in [0, 1]; a tenth of a grey level), else the export stays float32.
FLOAT16_TOLERANCE = 0.1 * GREY_LEVEL


def converter():
    """tf2onnx and onnxruntime, or a UsageError saying how to install them."""
    return optional("tf2onnx", "--format onnx"), optional("onnxruntime", "--format onnx")


def optional(module: str, needed_by: str):
    """An optional extra's module, or a UsageError saying how to install it."""
    try:
        return __import__(module)
    except ImportError:
        raise UsageError(f"{needed_by} needs {module}: pip install -e \".[onnx]\"") from None


def sample_feeds(specs, labels: Labels, count: int = 3) -> list[dict[str, np.ndarray]]:
    """Inputs to compare runtimes on: a white page, then noise images; the weights of
    any label; dropout noise of every kind."""
    random = np.random.default_rng(0)
    feeds = []
    for index in range(count):
        feed = {spec.name: random.random(tuple(spec.shape), np.float32) for spec in specs}
        if index == 0:
            feed["image"] = np.ones(specs[0].shape, np.float32)
        if "label" in feed:
            feed["label"] = labels.weights()
        feeds.append(feed)
    return feeds


def float16_weights(model):
    """The ONNX model with its large float32 weights stored as float16 and cast back to
    float32 as it loads: half the file, computing in float32 as before."""
    from onnx import TensorProto, helper, numpy_helper

    casts = []
    for weight in model.graph.initializer:
        values = numpy_helper.to_array(weight)
        if values.dtype == np.float32 and values.size >= 1024:
            name = weight.name
            weight.CopyFrom(numpy_helper.from_array(values.astype(np.float16), name + "_16"))
            casts.append(helper.make_node("Cast", [name + "_16"], [name],
                                          to=TensorProto.FLOAT))
    nodes = casts + list(model.graph.node)
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    return model


def max_difference(model_bytes: bytes, function, feeds, onnxruntime) -> float:
    """The largest difference between the ONNX model's outputs and TensorFlow's."""
    session = onnxruntime.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    return max(float(np.abs(session.run(None, feed)[0] - function(*feed.values())).max())
               for feed in feeds)


def write_onnx(translator, folder: str, options) -> dict:
    """model.onnx and model.json in `folder`; returns model.json's content."""
    tf2onnx, onnxruntime = converter()
    specs = translator.onnx_inputs()
    function = translator.onnx_function()
    start = time.perf_counter()
    model, _ = tf2onnx.convert.from_function(function, input_signature=specs, opset=OPSET)
    seconds = time.perf_counter() - start
    labels = Labels(tuple(options.labels), options.label_pattern)
    feeds = sample_feeds(specs, labels)
    full = model.SerializeToString()  # before float16_weights changes the model in place
    difference = max_difference(full, function, feeds, onnxruntime)
    if difference > GREY_LEVEL / 2:  # a conversion that changes pixels is a bug, not a choice
        raise UsageError(f"the ONNX conversion differs from TensorFlow by "
                         f"{difference / GREY_LEVEL:.2f} grey levels")
    half = float16_weights(model).SerializeToString()
    half_difference = max_difference(half, function, feeds, onnxruntime)
    weights = "float16" if half_difference <= FLOAT16_TOLERANCE else "float32"
    info = {
        "format": "onnx", "opset": OPSET, "file": MODEL_FILE, "weights": weights,
        **options.description, "input_resize": INPUT_RESIZE,
        # the label input's weights for each choice, "" for any label
        "label_weights": {label: labels.weights(label).tolist()
                          for label in ["", *options.labels]} if options.labels else {},
        "uint8_scale": UINT8_SCALE,
        "inputs": [{"name": spec.name, "shape": spec.shape.as_list()} for spec in specs],
        "max_difference_grey_levels":
            (half_difference if weights == "float16" else difference) / GREY_LEVEL,
        "float16_difference_grey_levels": half_difference / GREY_LEVEL,  # why the choice
        "convert_seconds": round(seconds, 2),
    }
    with file_errors(folder):
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, MODEL_FILE), "wb") as file:
            file.write(half if weights == "float16" else full)
        with open(os.path.join(folder, INFO_FILE), "w") as file:
            json.dump(info, file, indent=1)
    return info


def area_weights(input_size: int, output_size: int) -> np.ndarray:
    """[output, input] weights of area resampling along one axis, as TensorFlow's
    ResizeArea (the SavedModel's input resize): each output pixel the mean of the input
    pixels it covers, in part or whole."""
    scale = input_size / output_size
    weights = np.zeros((output_size, input_size))
    for out in range(output_size):
        start, end = out * scale, (out + 1) * scale
        for index in range(math.floor(start), min(math.ceil(end), input_size)):
            weights[out, index] = (min(end, index + 1) - max(start, index)) / scale
    return weights


def cubic_weights(input_size: int, output_size: int) -> np.ndarray:
    """[output, input] weights of TensorFlow's bicubic resize (the SavedModel's output
    stretch): Keys' kernel (a = -0.5) at half-pixel centres, the offset rounded to its
    1024-entry table, taps outside the image dropped and the rest renormalised."""
    def keys(distance):
        d = abs(distance)
        if d <= 1:
            return (1.5 * d - 2.5) * d * d + 1
        return ((-0.5 * d + 2.5) * d - 4) * d + 2 if d < 2 else 0.0

    scale = input_size / output_size
    weights = np.zeros((output_size, input_size))
    for out in range(output_size):
        position = (out + 0.5) * scale - 0.5
        base = math.floor(position)
        offset = round((position - base) * 1024) / 1024
        for tap in range(-1, 3):
            if 0 <= base + tap < input_size:
                weights[out, base + tap] = keys(tap - offset)
        weights[out] /= weights[out].sum()
    return weights


RESAMPLERS = {"area": area_weights}  # INPUT_RESIZE's methods, as tools/static/app.js's


def resample(image: np.ndarray, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """[h, w, c] => [len(rows), len(columns), c] by separable weights."""
    return np.einsum("yi,ijc,xj->yxc", rows, image, columns)


class OnnxTranslator:
    """An --format onnx export run by onnxruntime, without TensorFlow: an RGB image of
    any size in, its translation out, crop_size high and stretched to the input's aspect
    ratio, as the SavedModel's serving signature gives it (within a grey level)."""

    def __init__(self, folder: str | Path):
        folder = Path(folder)
        with file_errors(folder / INFO_FILE):
            self.info = json.loads((folder / INFO_FILE).read_text())
        onnxruntime = optional("onnxruntime", "an ONNX export")
        path = folder / self.info["file"]
        try:
            self.session = onnxruntime.InferenceSession(str(path),
                                                        providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime's errors share no narrower base class
            reason = str(error).strip().splitlines()[0]
            raise UsageError(f"{path}: not a model onnxruntime can load ({reason})") from None
        self.labels = Labels(tuple(self.info["labels"]), self.info.get("label_pattern"))
        self._random = np.random.default_rng()

    def __call__(self, rgb: np.ndarray, label: str = "") -> np.ndarray:
        """uint8 [h, w, 3] => uint8 [crop, round(crop * w / h), 3]; label "" weighs every
        label equally (a labelled model); dropout, if exported on, draws anew each call."""
        crop = self.info["crop_size"]
        height, width = rgb.shape[:2]
        weights = RESAMPLERS[self.info["input_resize"]]
        image = resample(rgb / 255, weights(height, crop), weights(width, crop))
        feeds = {"image": image[np.newaxis].astype(np.float32)}
        for spec in self.info["inputs"][1:]:
            feeds[spec["name"]] = (self.labels.weights(label) if spec["name"] == "label" else
                                   self._random.random(spec["shape"], np.float32))
        translated = self.session.run(None, feeds)[0][0]
        stretched = max(1, round(crop * width / height))
        if stretched != crop:
            translated = resample(translated, np.eye(crop), cubic_weights(crop, stretched))
        return np.floor(np.clip(translated, 0, 1) * UINT8_SCALE).clip(0, 255).astype(np.uint8)
