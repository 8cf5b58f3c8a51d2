"""tools/benchmark.py runs and reports sane numbers (its timings are not checked)."""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_benchmark_prints_its_json():
    result = subprocess.run(
        [sys.executable, str(REPO / "tools" / "benchmark.py"), "--steps", "3", "--batches", "3",
         "--matmul_seconds", "0.05", "--batch_size", "2", "--export_images", "2"],
        capture_output=True, text=True, timeout=300, cwd=REPO, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert report["config"]["batch_size"] == 2 and report["replicas"] == 1
    assert report["train_flops_per_step"] > 2 * 400e6  # 2 images of ~420 MFLOP each
    for key in ("train_images_per_sec", "inference_images_per_sec", "export_images_per_sec",
                "achieved_gflops", "matmul_peak_gflops", "peak_memory_mib"):
        assert report[key] > 0, key
    assert 0 < report["fraction_of_peak"] < 1


def test_the_original_tf1_graph_has_our_parameter_count():
    # An independent rebuild of the original graph: same 2,268,096 parameters as ours.
    result = subprocess.run(
        [sys.executable, str(REPO / "tools" / "benchmark_tf1.py"), "--steps", "3"],
        capture_output=True, text=True, timeout=300, cwd=REPO, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert report["parameter_count"] == 2_268_096 and report["train_images_per_sec"] > 0
