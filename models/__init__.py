"""What a pix2pix model is: networks, pix2pix layers, losses and the train step, plus the
data handling, image files and errors that pix2pix.py and the tools share.

Importing the package itself imports nothing, so that models.core.imageio and models.core.errors
stay quick for the tools that need nothing else, and models.nn.quiet_tensorflow can quieten
TensorFlow's start-up before anything imports it.
"""
