"""Every committed recipe loads, names a registered method, builds its network, and takes
its starting weights where those ship with the package: a typo in a recipe fails here,
not an hour into someone's run."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from superres.methods.registry import list_methods
from superres.training.config import load_config
from superres.training.trainer import Trainer
from superres.weights.store import shipped_weight_names

RECIPES = sorted((Path(__file__).resolve().parents[2] / "recipes").glob("*.toml"))


def test_there_are_recipes():
    assert len(RECIPES) >= 20


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.stem)
def test_recipe_loads_and_builds(recipe, tmp_path):
    config = load_config(recipe, ["train.threads=1", "train.workers=0"])
    assert config.method in {info.name for info in list_methods()}
    shipped = set(shipped_weight_names())
    starts = [config.model.init_from, *config.model.init_into.values()]
    if not all(not start or start in shipped for start in starts):
        # a start made by an earlier stage (runs/..., checkpoints/...): the network alone
        config = load_config(recipe, ["train.threads=1", "train.workers=0", "model.init_from=''",
                                      "model.init_into={}"])
    model = Trainer(config, tmp_path / "run", progress=False).build_model()
    assert sum(p.numel() for p in model.parameters()) > 0


def _gpu_session(tmp_path: Path, *args: str, cwd: Path | None = None,
                 env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """recipes/gpu-session.sh run from a copy, so its repository root is ``tmp_path`` (no runs/)."""
    script = tmp_path / "recipes" / "gpu-session.sh"
    script.parent.mkdir(exist_ok=True)
    shutil.copy(Path(__file__).resolve().parents[2] / "recipes" / "gpu-session.sh", script)
    return subprocess.run(["bash", str(script), *args], capture_output=True, text=True, timeout=120, cwd=cwd,
                          env=None if env is None else {**os.environ, **env})


def _gpu_data(folder: Path) -> Path:
    """The layout the script checks for (empty: a run made on it fails at once)."""
    for sub in ("train/T91", "train/BSD200", "benchmark/Set5"):
        (folder / sub).mkdir(parents=True)
    return folder


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_gpu_session_refuses_a_missing_data_folder_or_a_leftover_run_before_starting(tmp_path):
    missing = _gpu_session(tmp_path, str(tmp_path / "nodata"), str(tmp_path / "out"), "30", "vdsr-only")
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1
    assert "has no train/ or no benchmark/Set5" in missing.stderr
    # a run folder from an earlier call would have been resumed, or bundled as this call's
    (tmp_path / "runs" / "vdsr-continue").mkdir(parents=True)
    leftover = _gpu_session(tmp_path, str(_gpu_data(tmp_path / "data")), str(tmp_path / "out"), "30", "vdsr-only")
    assert leftover.returncode == 2 and leftover.stderr.strip() == "runs/vdsr-continue exists from an earlier run: move it away first"
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_gpu_session_exits_non_zero_when_a_run_fails(tmp_path):
    # the window's answer must say a run failed: it ended with "done" and status 0 before.
    # Started from another folder with relative paths, which name what the caller meant.
    _gpu_data(tmp_path / "caller" / "data")
    result = _gpu_session(tmp_path, "data", "out", "30", "vdsr-only", cwd=tmp_path / "caller")
    assert result.returncode == 1, result.stdout + result.stderr
    log = (tmp_path / "caller" / "out" / "session.log").read_text()
    assert "vdsr-continue: exit 1" in log and "failed: vdsr-continue (exit 1)" in log
    assert not (tmp_path / "out").exists() and not (tmp_path / "caller" / "out" / ".failed").exists()


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_gpu_session_starts_the_cascade_from_cscn_from(tmp_path):
    # the cascade's start is the shipped cscn.291 unless CSCN_FROM names another: a missing one
    # is the run's failure (the shipped start would have failed later, on the empty data)
    start = tmp_path / "elsewhere" / "cascade.safetensors"
    (tmp_path / "recipes").mkdir()
    shutil.copy(Path(__file__).resolve().parents[2] / "recipes" / "cscn.toml", tmp_path / "recipes")
    result = _gpu_session(tmp_path, str(_gpu_data(tmp_path / "data")), str(tmp_path / "out"), "60", "continue",
                          env={"CSCN_FROM": str(start)})
    assert result.returncode == 1, result.stdout + result.stderr
    failed = [line for line in (tmp_path / "out" / "session.log").read_text().splitlines() if "cscn-continue (exit" in line]
    assert len(failed) == 1 and str(start) in failed[0], failed


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_gpu_session_probe_passes_on_the_benchmark_status(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("the probe succeeds where CUDA is")
    shutil.copytree(Path(__file__).resolve().parents[2] / "benchmarks", tmp_path / "benchmarks")
    result = _gpu_session(tmp_path, "unused", str(tmp_path / "out"), "0", "probe")
    assert result.returncode != 0 and "no CUDA GPU" in result.stdout


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_gpu_session_refuses_a_plan_it_cannot_run_before_the_window_starts(tmp_path):
    # a lent GPU's minutes count from the first call: a wrong plan must cost one line, not a start
    unknown = _gpu_session(tmp_path, "data", str(tmp_path / "out"), "30", "contnue")
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == "unknown plan 'contnue' (scratch, continue, vdsr-only, polish or probe)"
    polish = _gpu_session(tmp_path, "data", str(tmp_path / "out"), "30", "polish")
    assert polish.returncode == 2 and "runs/vdsr-continue/best.safetensors" in polish.stderr
    assert len(polish.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()  # nothing started, nothing written
