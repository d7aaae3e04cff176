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
    # rank 0 alone wrote the checkpoint, log, config, weights and plot
    assert (tmp_path / "run" / "last.safetensors").exists()
    assert (tmp_path / "rank1-writes.txt").read_text() == ""
    assert set((tmp_path / "rank0-writes.txt").read_text().split()) >= {"save_checkpoint", "export", "_write_config",
                                                                       "_log_row", "_truncate_log"}
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


DISAGREEING_WORKER = """
import os, sys
from superres.errors import SuperresError
from superres.training.config import load_config
from superres.training.trainer import Trainer

recipe, run_dir, data_root, mode = sys.argv[1:5]
rank = int(os.environ["RANK"])
if mode == "data" and rank == 1:  # a node whose own copy of the training set lacks an image
    data_root += "-node2"
if mode == "step" and rank == 1:  # a node with its own run folder, without the checkpoint
    run_dir += "-node2"
try:
    Trainer(load_config(recipe, ['data.train=["T91"]']), run_dir, data_dir=data_root, progress=False).train()
except SuperresError as exc:
    print(f"error: {exc}", file=sys.stderr)
    sys.exit(1)
"""


def test_ranks_that_disagree_stop_with_one_error_instead_of_hanging_or_mixing(tmp_path, synthetic_images):
    # with node-local run folders or data, a rank that resumed elsewhere hung at its first
    # collective (30 minutes, gloo's default), and one that read other images trained silently
    import shutil

    for root, skip in (("data", 0), ("data-node2", 1)):  # the set "T91" is train/T91 under a data folder
        shutil.copytree(synthetic_images, tmp_path / root / "train" / "T91",
                        ignore=lambda folder, names: sorted(names)[:skip])
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=8, batch=4, checkpoint_every=4)
    (tmp_path / "worker.py").write_text(DISAGREEING_WORKER)
    env = dict(os.environ, SUPERRES_CACHE=str(tmp_path / "cache"), OMP_NUM_THREADS="1")
    for mode, port, what in (("data", "29535", "rank 1's pairs, content differ"), ("step", "29536", "rank 1's step differ")):
        if mode == "step":  # rank 0's run folder holds a checkpoint at step 4 of this very run
            Trainer(load_config(recipe, ['data.train=["T91"]']), tmp_path / "run", data_dir=str(tmp_path / "data"),
                    progress=False).train(stop_after=4)
        proc = subprocess.run(
            [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-port", port,
             str(tmp_path / "worker.py"), str(recipe), str(tmp_path / "run"), str(tmp_path / "data"), mode],
            env=env, capture_output=True, text=True, timeout=300,
        )
        assert proc.returncode != 0 and what in proc.stderr, proc.stderr[-3000:]
