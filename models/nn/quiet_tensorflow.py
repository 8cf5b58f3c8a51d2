"""TensorFlow imported without its start-up noise on stderr.

Every entry point imports this module before anything that imports TensorFlow. On a
machine without a GPU, TensorFlow's C++ start-up writes lines straight to file
descriptor 2 that TF_CPP_MIN_LOG_LEVEL does not silence ("All log messages before
absl::InitializeLog()", "oneDNN custom operations are on", "Could not find cuda
drivers", "failed call to cuInit"). So while TensorFlow is imported and lists its
devices (when the CUDA lines appear), fd 2 goes to a temporary file; afterwards every
captured line is written back except that known noise. The CUDA lines are dropped only
when this machine has no NVIDIA device: where there is one, they are real news.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence

# TensorFlow's info and warning log lines; errors still show
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

NOISE = (
    re.compile(r"^WARNING: All log messages before absl::InitializeLog\(\) is called"),
    re.compile(r"^I\d{4} .*\] oneDNN custom operations are on"),
)
NO_GPU_NOISE = (  # noise only where there is no GPU to find
    re.compile(r"^I\d{4} .*\] Could not find cuda drivers on your machine"),
    re.compile(r"^E\d{4} .*\] failed call to cuInit: "),
)


def has_nvidia_device() -> bool:
    return os.path.exists("/dev/nvidia0") or shutil.which("nvidia-smi") is not None


@contextlib.contextmanager
def filtered_stderr(noise: Sequence[re.Pattern]) -> Iterator[None]:
    """Captures file descriptor 2 (C++ code's writes as well as Python's) inside; then
    writes back every captured line that matches none of `noise`, in order."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            lines = capture.read().decode(errors="replace").splitlines(keepends=True)
            sys.stderr.write("".join(line for line in lines
                                     if not any(pattern.search(line) for pattern in noise)))
            sys.stderr.flush()


def import_tensorflow() -> None:
    noise = NOISE if has_nvidia_device() else NOISE + NO_GPU_NOISE
    with filtered_stderr(noise):
        import tensorflow as tf

        # Lists (and so initialises) the devices, without fixing thread settings
        tf.config.list_physical_devices()


import_tensorflow()
