"""tools/benchmark.py: its FLOP counts, exactly, against counts made here from the layer
shapes of the README's architecture; its JSON report (timings are not checked, only
that they are measured and consistent with each other); and --original, which times the
original script beside ours."""

import json
import subprocess
import sys

import pytest
from helpers import REPO, TOOLS

from models.core.styles import STYLES
from models.nn.networks import build_generator, build_patchgan
from tools import benchmark

K = 4 * 4  # every conv is 4x4

# The defaults (crop 64, ngf = ndf = 16, Liao's decoder, one-layer PatchGAN), one row per
# conv: (pixels the kernel is applied at, input channels, output channels). A conv is
# applied at its output pixels, a transposed conv at its input pixels.
GENERATOR = [
    # encoder, 64x64x3 => 32x32x16 => 16x16x32 => 8x8x64 => 4x4x128 => 2x2x128 => 1x1x128
    (32 * 32, 3, 16), (16 * 16, 16, 32), (8 * 8, 32, 64), (4 * 4, 64, 128),
    (2 * 2, 128, 128), (1 * 1, 128, 128),
    # decoder, at its inputs: 1x1x128, then each output concatenated with the skip
    (1 * 1, 128, 128), (2 * 2, 128 + 128, 128), (4 * 4, 128 + 128, 128),
    (8 * 8, 128 + 64, 64), (16 * 16, 64 + 32, 32), (32 * 32, 32 + 16, 3),
]
DISCRIMINATOR = [  # concat(input, target) 64x64x6, each conv padded by 1, then "valid"
    (32 * 32, 6, 16), (31 * 31, 16, 32), (30 * 30, 32, 1),
]
# --separable_conv: a 4x4 depthwise conv and a 1x1 pointwise conv, both at the output
# pixels; the decoder upsamples (nearest) first, so it works at its output size.
SEPARABLE_GENERATOR = [
    *GENERATOR[:6],
    (2 * 2, 128, 128), (4 * 4, 128 + 128, 128), (8 * 8, 128 + 128, 128),
    (16 * 16, 128 + 64, 64), (32 * 32, 64 + 32, 32), (64 * 64, 32 + 16, 3),
]


def flops(layers) -> int:
    return sum(2 * pixels * K * cin * cout for pixels, cin, cout in layers)


def separable_flops(layers) -> int:
    return sum(2 * pixels * (K * cin + cin * cout) for pixels, cin, cout in layers)


# A training step: G forward, and its backward at twice that (input and filter
# gradients); D on the real and the fake pair, forward and backward (3 passes each);
# plus one more D pass for G's gradient through D.
DEFAULT_STEP_FLOPS = 3 * flops(GENERATOR) + 3 * 2 * flops(DISCRIMINATOR) + flops(DISCRIMINATOR)


def test_default_flops_are_the_layer_shapes_count():
    assert benchmark.conv_flops(build_generator()) == flops(GENERATOR) == 93_323_264
    assert benchmark.conv_flops(build_patchgan()) == flops(DISCRIMINATOR) == 19_812_352
    # the README's "about 419 MFLOP" per training step at the defaults
    assert DEFAULT_STEP_FLOPS == 418_656_256


def test_separable_conv_flops_count_depthwise_and_pointwise():
    separable = build_generator(separable_conv=True)
    assert benchmark.conv_flops(separable) == separable_flops(SEPARABLE_GENERATOR) == 32_215_040


@pytest.mark.parametrize("n_layers", [1, 3])
def test_spectral_norm_flops_are_the_wrapped_convs(n_layers):
    plain = build_patchgan(n_layers=n_layers)
    normalised = build_patchgan(n_layers=n_layers, spectral_norm=True)
    assert benchmark.conv_flops(normalised) == benchmark.conv_flops(plain) > 0


REFERENCE = REPO.parent / "shared" / "reference"  # the original scripts, verbatim


def run_benchmark(*flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(TOOLS / "benchmark.py"), *flags],
                          capture_output=True, text=True, timeout=300, cwd=REPO, check=False)


def benchmark_report(*flags: str) -> dict:
    """tools/benchmark.py's JSON for a few steps and batches with these flags."""
    result = run_benchmark("--steps", "3", "--batches", "3", "--export_images", "2", *flags)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def test_benchmark_prints_its_json():
    report = benchmark_report("--matmul_seconds", "0.05", "--batch_size", "2")
    assert report["config"]["batch_size"] == 2 and report["replicas"] == 1
    assert report["train_flops_per_step"] == 2 * DEFAULT_STEP_FLOPS  # 2 images a step
    # measured, so only positive; the derived numbers must agree with them
    for key in ("train_images_per_sec", "train_cpu_ms_per_image", "inference_images_per_sec",
                "export_images_per_sec", "matmul_peak_gflops", "peak_memory_mib"):
        assert report[key] > 0, key
    # achieved = FLOPs per image x images per second, each rounded in the report
    per_image_gflop = DEFAULT_STEP_FLOPS / 1e9
    expected = report["train_images_per_sec"] * per_image_gflop
    assert abs(report["achieved_gflops"] - expected) <= 0.05 * per_image_gflop + 0.005
    peak = report["matmul_peak_gflops"]
    fraction = report["achieved_gflops"] / peak
    rounding = 5e-5 + 0.005 / peak + 0.05 * fraction / peak
    assert abs(report["fraction_of_peak"] - fraction) <= rounding


def test_the_drawn_preset_is_timed_with_its_style_bank():
    report = benchmark_report("--preset", "drawn", "--matmul_seconds", "0")
    assert report["config"]["sketch_styles"] == list(STYLES)
    assert report["style_bank_seconds_per_pair"] > 0 and report["train_images_per_sec"] > 0


@pytest.mark.skipif(not REFERENCE.is_dir(), reason=f"needs the original scripts in {REFERENCE} "
                    "(Liao's sketchtoface/pix2pix.py)")
def test_the_original_script_is_timed_beside_ours():
    script = REFERENCE / "sketchtoface" / "pix2pix.py"
    result = run_benchmark("--original", str(script), "--steps", "3", "--warmup_steps", "2",
                           "--rounds", "1")
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert report["original"]["code"] == str(script)
    assert report["original"]["variant"].startswith("Liao's")
    for row in report["ours"], report["original"]:
        assert row["parameter_count"] == 2_268_096  # the same networks
        assert len(row["train_images_per_sec"]) == 1 and row["train_images_per_sec"][0] > 0


@pytest.mark.parametrize(("path", "message"), [
    ("no-such-script.py", "cannot be read"),
    ("README.md", "not a pix2pix-tensorflow script"),
])
def test_a_bad_original_path_is_one_error_line(path, message):
    result = run_benchmark("--original", path)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("benchmark.py: error: ") and message in last, result.stderr[-2000:]
