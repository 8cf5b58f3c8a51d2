"""pip install .   (or  pip install -e ".[test]"  for development)"""

from pathlib import Path

from setuptools import find_packages, setup

# tf2onnx's converter runs beside tensorflow 2.21 (pip resolves it without touching TF)
ONNX = ["tf2onnx>=1.17,<1.18", "onnx>=1.23,<1.24", "onnxruntime>=1.32,<1.33"]
# the original TF1 scripts' tf.compat.v1.layers, in their own process (tools/original.py)
ORIGINAL = ["tf-keras>=2.21,<2.22"]

setup(
    name="pix2pix-tf2",
    version="0.1.0",
    description="pix2pix (Isola et al.) in TensorFlow 2 / Keras 3, a faithful port of "
                "pix2pix-tensorflow with the SketchToFace 64x64 defaults",
    long_description=(Path(__file__).parent / "README.md").read_text(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    py_modules=["pix2pix"],
    # models/ and its rooms, tools/; tools.sketches is the sketches/ folder, mapped below
    packages=[*find_packages(include=["models", "models.*", "tools"]), "tools.sketches"],
    # the checkout's sketches/ folder, as far as it is committed, travels in the wheel as
    # tools/sketches/: pix2pix-download checks the data against its MANIFEST.sha256
    package_dir={"tools.sketches": "sketches"},
    package_data={"tools": ["static/*"],  # serve.py's page
                  "tools.sketches": ["MANIFEST.sha256", "README.md"]},
    install_requires=[
        "tensorflow>=2.21,<2.22",  # its tf.keras is Keras 3
        "tensorboard>=2.21,<2.22",  # tf.summary's writer lives here
        "numpy",
        "opencv-python-headless",
        "pillow",
        "absl-py",
    ],
    extras_require={
        # --format onnx (the browser's model, tools/serve.py --site) and onnxruntime
        "onnx": ONNX,
        "original": ORIGINAL,
        # + Debian chromium, npm ci; pytest-xdist runs .ci/run's two workers
        "test": ["pytest", "pytest-xdist>=3.8", "ruff", "selenium", *ONNX, *ORIGINAL],
    },
    entry_points={"console_scripts": [
        "pix2pix=pix2pix:run",
        "pix2pix-process=tools.process:cli",
        "pix2pix-split=tools.split:cli",
        "pix2pix-restyle=tools.restyle:cli",
        "pix2pix-download=tools.download_dataset:cli",
        "pix2pix-score=tools.score:cli",
        "pix2pix-serve=tools.serve:cli",
        "pix2pix-translate=tools.translate:cli",
        "pix2pix-crossval=tools.crossval:cli",
        "pix2pix-benchmark=tools.benchmark:cli",
        "pix2pix-original=tools.original:cli",
        "pix2pix-import=tools.import_original:cli",
    ]},
)
