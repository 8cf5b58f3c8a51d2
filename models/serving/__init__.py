"""An exported model: the SavedModel, which plain TensorFlow runs (savedmodel), and the
ONNX model for runtimes without TensorFlow (onnx_model: onnxruntime in Python, and
onnxruntime-web in the browser).

These may import models.core and models.nn, never the modes.
"""
