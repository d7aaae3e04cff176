"""Every committed recipe loads, names a registered method, builds its network, and takes
its starting weights where those ship with the package: a typo in a recipe fails here,
not an hour into someone's run."""

from __future__ import annotations

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


def _gpu_session(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """recipes/gpu-session.sh run from a copy, so its repository root is ``tmp_path`` (no runs/)."""
    script = tmp_path / "recipes" / "gpu-session.sh"
    script.parent.mkdir(exist_ok=True)
    shutil.copy(Path(__file__).resolve().parents[2] / "recipes" / "gpu-session.sh", script)
    return subprocess.run(["bash", str(script), *args], capture_output=True, text=True, timeout=60)


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
