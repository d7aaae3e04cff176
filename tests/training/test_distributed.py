"""Two CPU processes under torchrun (gloo) end with identical weights."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file

from conftest import write_recipe


def test_torchrun_two_processes_identical_weights(tmp_path, synthetic_images):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=12, batch=4, checkpoint_every=6)
    env = dict(os.environ, SUPERRES_CACHE=str(tmp_path / "cache"), OMP_NUM_THREADS="1")
    worker = Path(__file__).with_name("ddp_worker.py")
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", "29533",
         str(worker), str(recipe), str(tmp_path / "run"), str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    a, b = load_file(str(tmp_path / "rank0.safetensors")), load_file(str(tmp_path / "rank1.safetensors"))
    for key in a:
        assert torch.equal(a[key], b[key]), key
    # rank 0 alone wrote the checkpoint, log and weights
    assert (tmp_path / "run" / "last.safetensors").exists()
    assert any(v.abs().sum() > 0 for v in a.values())
