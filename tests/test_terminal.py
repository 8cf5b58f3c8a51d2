"""models/nn/quiet_tensorflow.py: TensorFlow's start-up noise stays out of a successful run's
stderr on a machine without a GPU; every other line still comes through."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from helpers import REPO, TOOLS

from models.nn.quiet_tensorflow import has_nvidia_device

# What TensorFlow 2.21 writes at start-up on a machine without a GPU
START_UP_NOISE = ("All log messages before absl::InitializeLog()", "oneDNN custom operations",
                  "Could not find cuda drivers", "failed call to cuInit")


def python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=300, cwd=REPO, check=False)


@pytest.mark.skipif(has_nvidia_device(), reason="the CUDA lines are kept where a GPU is")
def test_a_successful_command_prints_no_start_up_noise(data):
    # score.py imports TensorFlow and runs a graph: all of TensorFlow's start-up
    name = sorted(data.images.glob("*-outputs.png"))[0].name.removesuffix("-outputs.png")
    result = subprocess.run([sys.executable, str(TOOLS / "score.py"), data.images,
                             "--names", name], capture_output=True, text=True, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert f"| {name} | " in result.stdout
    for noise in START_UP_NOISE:
        assert noise not in result.stderr
    assert result.stderr == ""


def test_other_lines_written_during_the_import_come_through():
    result = python("""
        import os
        from models.nn.quiet_tensorflow import NOISE, NO_GPU_NOISE, filtered_stderr
        with filtered_stderr(NOISE + NO_GPU_NOISE):
            os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called "
                        b"are written to STDERR\\n"
                        b"I0000 00:00:1.2 6058 port.cc:153] oneDNN custom operations are on.\\n"
                        b"E0000 00:00:1.3 6058 some_op.cc:7] a real problem\\n"
                        b"E0000 00:00:1.4 6058 cuda_platform.cc:52] failed call to cuInit: "
                        b"INTERNAL: CUDA error\\n")
            print("from Python", file=__import__("sys").stderr)
        print("after", file=__import__("sys").stderr)
    """)
    assert result.returncode == 0
    assert result.stderr == ("E0000 00:00:1.3 6058 some_op.cc:7] a real problem\n"
                             "from Python\nafter\n")


def test_cuda_lines_are_kept_where_there_is_a_gpu():
    result = python("""
        import os
        from models.nn.quiet_tensorflow import NOISE, filtered_stderr
        with filtered_stderr(NOISE):  # what import_tensorflow filters with a GPU present
            os.write(2, b"E0000 00:00:1.4 6058 cuda_platform.cc:52] failed call to cuInit: "
                        b"INTERNAL: CUDA error\\n")
    """)
    assert "failed call to cuInit" in result.stderr


def test_an_import_error_is_not_swallowed():
    result = python("""
        from models.nn.quiet_tensorflow import NOISE, filtered_stderr
        with filtered_stderr(NOISE):
            import no_such_module_here
    """)
    assert result.returncode == 1
    assert "ModuleNotFoundError: No module named 'no_such_module_here'" in result.stderr
