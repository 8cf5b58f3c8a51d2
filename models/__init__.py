"""pix2pix's code, in rooms by what may import what:

- core/: what everything shares (options, errors, labels, image files, drawing styles,
  results), without TensorFlow, so the tools that need no model start at once;
- nn/: the model in TensorFlow and Keras (data pipeline, layers, networks, losses, the
  GAN and its build); imports core;
- serving/: an exported model (the SavedModel, the ONNX model); imports core and nn;
- modes/: what pix2pix.py's --mode runs (train, test, translate, export) and what
  training needs (schedule, devices, checkpoints); imports any of them.

Importing the package itself imports nothing; entry points that need TensorFlow import
models.nn.quiet_tensorflow first, to quieten its start-up. docs/layout.md maps the files.
"""
