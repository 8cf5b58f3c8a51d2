"""The model, in TensorFlow and Keras: the data pipeline that feeds it (data), pix2pix's
layers, the networks, the GAN losses, the GAN and its training step (gan), and the model
the options describe (build). quiet_tensorflow imports TensorFlow without its start-up
noise; every entry point imports it first.

These may import models.core, never the modes or serving.
"""
