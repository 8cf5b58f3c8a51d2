"""The exported model for runtimes without TensorFlow: ONNX, for onnxruntime-web in a
browser (the static site, tools/site.py) and onnxruntime in Python.

`write_onnx` converts a Translator's portable_function (see models/export.py: one image at
crop size, label weights, dropout noise drawn by the caller) with tf2onnx, and writes
model.json beside it: what the page needs to feed the model. tf2onnx and onnxruntime are
the optional extra `pip install -e ".[onnx]"`; nothing else imports this module.
"""

from __future__ import annotations

import json
import os
import time

import numpy as np
import tensorflow as tf

from models.errors import UsageError, file_errors

OPSET = 17
MODEL_FILE = "model.onnx"
INFO_FILE = "model.json"
GREY_LEVEL = 1 / 255
# float16 weights halve the file; they are kept only when the outputs stay this close to
# float32's (in [0, 1]; a tenth of a grey level), else the export stays float32.
FLOAT16_TOLERANCE = 0.1 * GREY_LEVEL


def converter():
    """tf2onnx and onnxruntime, or a UsageError saying how to install them."""
    try:
        import onnxruntime
        import tf2onnx
    except ImportError as error:
        raise UsageError(f"--format onnx needs {error.name}: pip install -e \".[onnx]\"") \
            from None
    return tf2onnx, onnxruntime


def sample_feeds(specs: list[tf.TensorSpec], count: int = 3) -> list[dict[str, np.ndarray]]:
    """Inputs to compare runtimes on: a white page, then noise images; uniform weights
    for the labels; dropout noise of every kind."""
    random = np.random.default_rng(0)
    feeds = []
    for index in range(count):
        feed = {spec.name: random.random(tuple(spec.shape), np.float32) for spec in specs}
        if index == 0:
            feed["image"] = np.ones(specs[0].shape, np.float32)
        if "label" in feed:
            feed["label"] = np.full(feed["label"].shape, 1 / feed["label"].size, np.float32)
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
    specs = translator.portable_inputs()
    function = translator.portable_function()
    start = time.perf_counter()
    model, _ = tf2onnx.convert.from_function(function, input_signature=specs, opset=OPSET)
    seconds = time.perf_counter() - start
    feeds = sample_feeds(specs)
    difference = max_difference(model.SerializeToString(), function, feeds, onnxruntime)
    if difference > GREY_LEVEL / 2:  # a conversion that changes pixels is a bug, not a choice
        raise UsageError(f"the ONNX conversion differs from TensorFlow by "
                         f"{difference / GREY_LEVEL:.2f} grey levels")
    half = float16_weights(model).SerializeToString()
    half_difference = max_difference(half, function, feeds, onnxruntime)
    weights = "float16" if half_difference <= FLOAT16_TOLERANCE else "float32"
    info = {
        "format": "onnx", "opset": OPSET, "file": MODEL_FILE, "weights": weights,
        "crop_size": options.crop_size, "labels": list(options.labels),
        "swap_rb": options.swap_rb, "inference_dropout": options.inference_dropout,
        "input_half": options.input_half,
        "inputs": [{"name": spec.name, "shape": spec.shape.as_list()} for spec in specs],
        "max_difference_grey_levels":
            (half_difference if weights == "float16" else difference) / GREY_LEVEL,
        "convert_seconds": round(seconds, 2),
    }
    with file_errors(folder):
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, MODEL_FILE), "wb") as file:
            file.write(half if weights == "float16" else model.SerializeToString())
        with open(os.path.join(folder, INFO_FILE), "w") as file:
            json.dump(info, file, indent=1)
    return info

