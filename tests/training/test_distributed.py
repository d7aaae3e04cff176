"""Two CPU processes under torchrun (gloo) end with identical weights."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file

from superres.training.config import load_config
from superres.training.trainer import Trainer

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
    # the same run in one process: the same batches, so the same weights and logged losses (the
    # log holds the whole batch's loss, not rank 0's half), up to the all-reduce's rounding
    single = Trainer(load_config(recipe), tmp_path / "single", progress=False)
    single.train()
    for key, value in single.model.state_dict().items():
        torch.testing.assert_close(a[key], value, rtol=1e-4, atol=1e-5)

    def losses(run):
        with open(run / "log.csv") as handle:
            return [float(row["loss"]) for row in csv.DictReader(handle)]

    assert len(losses(tmp_path / "run")) == len(losses(tmp_path / "single")) > 1
    for ddp, one in zip(losses(tmp_path / "run"), losses(tmp_path / "single")):
        assert abs(ddp - one) <= 1e-5 * one



# ---- mutation pass 5: append to tests/training/test_distributed.py ------------------------

SIGNAL_WORKER = '''
import json, os, signal, sys
from superres.training.config import load_config
from superres.training.trainer import Trainer

recipe, run_dir, out_dir = sys.argv[1:4]
trainer = Trainer(load_config(recipe), run_dir, progress=False)

def on_step(step, _loss):
    if step == 5 and trainer.rank == 1:  # a signal that reaches one rank only
        os.kill(os.getpid(), signal.SIGTERM)

try:
    trainer.train(on_step=on_step)
    interrupted = False
except KeyboardInterrupt:
    interrupted = True
with open(os.path.join(out_dir, f"rank{trainer.rank}.json"), "w") as handle:
    json.dump({"interrupted": interrupted}, handle)
'''


def test_a_signal_to_one_rank_stops_every_rank_at_the_same_step(tmp_path, synthetic_images):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=12, batch=4, checkpoint_every=1000)
    (tmp_path / "worker.py").write_text(SIGNAL_WORKER)
    env = dict(os.environ, SUPERRES_CACHE=str(tmp_path / "cache"), OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", "29534",
         str(tmp_path / "worker.py"), str(recipe), str(tmp_path / "run"), str(tmp_path)],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    for rank in (0, 1):
        assert json.loads((tmp_path / f"rank{rank}.json").read_text()) == {"interrupted": True}
    assert json.loads((tmp_path / "run" / "checkpoint" / "last.json").read_text())["step"] == 5
