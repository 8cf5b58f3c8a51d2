"""The core: what every part of pix2pix shares, without TensorFlow.

Nothing here imports TensorFlow or Keras when imported (tests/test_layout.py checks),
so that the tools which need no model start at once and a module's folder says what
it may import. Only OpenCV, NumPy and Pillow beside the standard library.
"""
