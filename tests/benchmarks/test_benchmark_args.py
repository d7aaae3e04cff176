"""The benchmark scripts refuse bad arguments up front, in one line, without a traceback.

Each case runs ``python benchmarks/X.py ...`` in a subprocess (cwd: the repository root), all of
them at once: a script's own start-up (torch) is most of its cost here. A refusal is a status
other than 0 and exactly one line on stderr, ``error: ...`` (a SuperresError, through
``superres.errors.one_line_errors``) or ``X.py: error: ...`` (a usage error of ``OneLineParser``).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from superres.errors import SuperresError

REPO = Path(__file__).resolve().parents[2]
BENCHMARKS = REPO / "benchmarks"

# (script, arguments, a piece of the message): a few of the refusals, one of each kind (the start of
# a script costs about 2 s of CPU, and the whole file is to take under 20 s on one core); each of
# these was a traceback, a multi-line usage or a status 0, most of them after minutes of work
CASES = [
    ("bench_classical.py", ["-m", "nosuch"], "unknown method 'nosuch'"),
    # the big-image run comes last: its model is checked before minutes of timing
    ("bench_upscale.py", ["--big-model", "nosuch", "--repeat", "1", "--output-mp", "0.001", "--big-side", "16"],
     "unknown method 'nosuch'"),
    ("bench_sparse_coding.py", ["--part", "images", "-s", "5"], "supports scale 2, 3, 4, not 5"),
    ("plot_ista_fista.py", ["/nonexistent/record.json"], "/nonexistent/record.json"),
    ("paper_gap.py", ["--method", "nosuch"], "no references for 'nosuch'"),
    ("ablation_scn.py", ["--stages", "a"], "--stages"),
    # a table's file in a folder that does not exist: refused before minutes of work, not after
    ("scsr_constants.py", ["-o", "/nonexistent/table.md"], "folder '/nonexistent' does not exist"),
]


def _env() -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "src"), env.get("PYTHONPATH")]))
    return env


def _run_all(cases) -> list[subprocess.CompletedProcess]:
    """Run ``sys.executable benchmarks/SCRIPT ARGS`` for every case, concurrently."""
    procs = [subprocess.Popen([sys.executable, str(BENCHMARKS / script), *args], cwd=REPO, env=_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for script, args, *_ in cases]
    done = []
    for proc in procs:
        try:
            out, err = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:  # a script that starts its work instead of refusing
            proc.kill()
            out, err = proc.communicate()
        done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return done


def _assert_refused(script: str, result: subprocess.CompletedProcess, fragment: str) -> None:
    shown = f"status {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.returncode > 0, shown  # not 0, and not killed at the timeout
    assert "Traceback" not in result.stderr, shown
    lines = result.stderr.splitlines()
    assert len(lines) == 1, shown
    assert lines[0].startswith(("error: ", f"{script}: error: ")), shown
    assert fragment in lines[0], shown


@pytest.fixture(scope="module")
def refusals() -> dict[int, subprocess.CompletedProcess]:
    return dict(enumerate(_run_all(CASES)))


@pytest.mark.parametrize("index", range(len(CASES)), ids=[f"{s} {' '.join(a)}" for s, a, _ in CASES])
def test_bad_arguments_are_refused_in_one_line(refusals, index):
    script, _, fragment = CASES[index]
    _assert_refused(script, refusals[index], fragment)


def test_images_are_checked_and_the_hr_modcropped(data_dir):
    # an image the set lacks was a StopIteration traceback; x5 (Set14 has no x5 folder) a shape
    # mismatch after the upscaling, the HR not being modcropped for the scale
    missing, x5 = _run_all([
        ("bench_classical.py", ["-i", "img_999", "-m", "bicubic", "--data-dir", str(data_dir)]),
        ("bench_classical.py", ["-i", "img_001", "-m", "bicubic", "-s", "5", "--data-dir", str(data_dir)]),
    ])
    _assert_refused("bench_classical.py", missing, "no image 'img_999' in Set14")
    assert x5.returncode == 0 and x5.stderr == "", x5.stderr
    assert x5.stdout.splitlines()[0].startswith("Set14 img_001 x5: LR 100x96 -> HR 500x480"), x5.stdout
    assert x5.stdout.splitlines()[2].startswith("bicubic "), x5.stdout


def _bench_upscale():
    spec = importlib.util.spec_from_file_location("bench_upscale_under_test", BENCHMARKS / "bench_upscale.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_failed_big_image_run_raises_instead_of_reporting_figures(tmp_path):
    # the child's `superres upscale` refusing (unknown model here; the memory budget in practice)
    # was reported as a peak RSS and seconds, written to --json, with status 0
    bench = _bench_upscale()
    with pytest.raises(SuperresError, match=r"failed \(exit 1\): superres: error: unknown method 'nosuch'"):
        bench.peak_memory_big(16, 4.0, tmp_path, "nosuch")
