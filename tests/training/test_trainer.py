"""The trainer: exact resume after a kill, loss goes down, schedules, clipping, NaN stop."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from safetensors.torch import load_file

from superres.errors import TrainingError
from superres.training.config import load_config
from superres.training.trainer import Trainer, lr_at_step

from conftest import write_recipe


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SUPERRES_CACHE", str(tmp_path / "cache"))


def _train_cli(recipe, run_dir, env=None):
    return subprocess.Popen(
        [sys.executable, "-m", "superres", "train", str(recipe), "--run-dir", str(run_dir), "--quiet"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_killed_run_resumes_to_identical_weights(tmp_path, synthetic_images):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=120, checkpoint_every=5)
    env = dict(os.environ, SUPERRES_CACHE=str(tmp_path / "cache"), OMP_NUM_THREADS="1")
    # uninterrupted reference
    ref = _train_cli(recipe, tmp_path / "ref", env)
    assert ref.wait(timeout=600) == 0, ref.stderr.read()
    # started as `python -m superres`, the card still records the whole command as typed
    card = json.loads((tmp_path / "ref" / "last.json").read_text())
    assert card["training"]["command"] == f"superres train {recipe} --run-dir {tmp_path / 'ref'} --quiet"
    # a run killed (SIGKILL, no clean-up) once its first checkpoint exists, then resumed
    victim = _train_cli(recipe, tmp_path / "victim", env)
    last = tmp_path / "victim" / "checkpoint" / "last.json"
    deadline = time.time() + 600
    while not last.exists() and time.time() < deadline and victim.poll() is None:
        time.sleep(0.01)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    killed_at = json.loads(last.read_text())["step"]
    assert 0 < killed_at < 120, "the run must be killed halfway"
    resumed = _train_cli(recipe, tmp_path / "victim", env)
    assert resumed.wait(timeout=600) == 0, resumed.stderr.read()
    a = load_file(str(tmp_path / "ref" / "last.safetensors"))
    b = load_file(str(tmp_path / "victim" / "last.safetensors"))
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=1e-6)
    # the log has one row per logged step, none repeated after the resume
    steps = [int(line.split(",")[0]) for line in (tmp_path / "victim" / "log.csv").read_text().splitlines()[1:]]
    assert steps == sorted(set(steps))


def test_training_lowers_loss_and_beats_bicubic_on_set5(tmp_path, data_dir):
    t91 = data_dir / "train" / "T91"
    recipe = write_recipe(
        tmp_path / "r.toml", t91, steps=300, patch=24, batch=8, lr=1e-3,
        args="{ scales = [2], channels = 16, blocks = 2 }", val_dataset="Set5", checkpoint_every=300,
    )
    config = load_config(recipe)
    losses = []
    trainer = Trainer(config, tmp_path / "run", data_dir=str(data_dir), progress=False)
    result = trainer.train(on_step=lambda step, loss: losses.append(loss))
    assert sum(losses[-30:]) / 30 < 0.9 * sum(losses[:30]) / 30
    assert result.best_psnr > 33.64 + 0.05  # Set5 x2 bicubic is 33.64 dB
    assert (tmp_path / "run" / "log.csv").exists() and (tmp_path / "run" / "best.json").exists()


def test_schedules(tmp_path, synthetic_images):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=100)
    cosine = load_config(recipe)
    assert lr_at_step(cosine, 0) == pytest.approx(1e-3)
    assert lr_at_step(cosine, 50) == pytest.approx(0.5e-3)
    assert lr_at_step(cosine, 100) == pytest.approx(0.0, abs=1e-12)
    step = load_config(recipe, ["schedule.name=\"step\"", "schedule.step_size=20", "schedule.gamma=0.1"])
    assert lr_at_step(step, 19) == pytest.approx(1e-3) and lr_at_step(step, 20) == pytest.approx(1e-4)
    warm = load_config(recipe, ["schedule.warmup_steps=10"])
    assert lr_at_step(warm, 0) == pytest.approx(1e-4)
    # the cosine runs over the steps after the warm-up: full at its start, half midway, floor at the end
    assert lr_at_step(warm, 9) == lr_at_step(warm, 10) == pytest.approx(1e-3)
    assert lr_at_step(warm, 55) == pytest.approx(0.5e-3)
    floored = load_config(recipe, ["schedule.warmup_steps=10", "schedule.min_factor=0.1"])
    assert lr_at_step(floored, 100) == pytest.approx(1e-4)


def test_adjustable_clipping_scales_with_learning_rate(tmp_path, synthetic_images):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=10)
    config = load_config(recipe, ['clip.mode="adjustable"', "clip.value=0.01"])
    trainer = Trainer(config, tmp_path / "run", progress=False)
    model = torch.nn.Linear(3, 1)
    for lr in (0.1, 0.001):
        model.weight.grad = torch.full_like(model.weight, 100.0)
        trainer.clip_gradients(model, lr)
        assert model.weight.grad.max().item() == pytest.approx(0.01 / lr)


def test_norm_and_value_clipping(tmp_path, synthetic_images):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=10)
    model = torch.nn.Linear(3, 1)
    grad = torch.tensor([[100.0, -0.5, 2.0]])
    for mode, expected in (("norm", grad / grad.norm()), ("value", torch.tensor([[1.0, -0.5, 1.0]])), ("none", grad)):
        trainer = Trainer(load_config(recipe, [f'clip.mode="{mode}"', "clip.value=1.0"]), tmp_path / mode, progress=False)
        model.weight.grad = grad.clone()
        trainer.clip_gradients(model, 0.1)
        torch.testing.assert_close(model.weight.grad, expected)


def test_per_layer_learning_rates(tmp_path, synthetic_images):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=10, architecture="srcnn",
                          args="{ f1 = 9, f2 = 1, f3 = 5 }", input_mode="upsampled")
    config = load_config(recipe, ["optim.lr_multipliers={ conv3 = 0.1 }"])
    trainer = Trainer(config, tmp_path / "run", progress=False)
    optimizer = trainer.build_optimizer(trainer.build_model())
    factors = sorted(g["lr_factor"] for g in optimizer.param_groups)
    assert factors == [0.1, 1.0]


def test_nan_loss_stops_with_clear_error_and_keeps_checkpoint(tmp_path, synthetic_images):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=40, checkpoint_every=5)
    Trainer(load_config(recipe), tmp_path / "run", progress=False).train(stop_after=5)
    # resume the same run with an absurd learning rate: the loss blows up
    exploding = Trainer(load_config(recipe, ["optim.lr=1e30"]), tmp_path / "run", progress=False)
    with pytest.raises(TrainingError, match=r"other settings \(optim.lr 0.001 -> 1e\+30\).*--allow-changes"):
        exploding.train()  # a resume that would not continue the run is refused...
    with pytest.raises(TrainingError, match="loss became"):
        exploding.train(allow_changes=True)  # ... unless asked for
    meta = json.loads((tmp_path / "run" / "checkpoint" / "last.json").read_text())
    assert meta["step"] == 5 and (tmp_path / "run" / "checkpoint" / meta["file"]).exists()
    assert torch.isfinite(load_file(str(tmp_path / "run" / "checkpoint" / meta["file"]))["model.head.weight"]).all()


def test_bad_recipe_messages(tmp_path, synthetic_images):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=10)
    with pytest.raises(TrainingError, match="unknown key"):
        load_config(recipe, ["optim.lrr=1"])
    with pytest.raises(TrainingError, match="does not exist"):
        load_config(tmp_path / "missing.toml")


def _final_weights(run_dir):
    return load_file(str(run_dir / "last.safetensors"))


def test_worker_processes_give_the_same_weights_as_the_loop(tmp_path, synthetic_images):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=12, checkpoint_every=100)
    runs = {}
    for workers in (0, 2):
        config = load_config(recipe, [f"train.workers={workers}"])
        Trainer(config, tmp_path / f"w{workers}", progress=False).train()
        runs[workers] = _final_weights(tmp_path / f"w{workers}")
    for key in runs[0]:
        torch.testing.assert_close(runs[0][key], runs[2][key], rtol=0, atol=0)


@pytest.mark.parametrize("warmup", [400, 20, 0])
def test_time_budget_fits_steps_and_equals_a_run_of_that_length(tmp_path, synthetic_images, warmup, monkeypatch):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=100_000, checkpoint_every=1000)
    # 400: the warm-up outlasts the speed probe, so no step's learning rate depended on
    # train.steps yet; 20 and 0: it does not, and the probe's steps are timed, then undone
    overrides = [f"schedule.warmup_steps={warmup}"]
    undone = []
    real_rate = Trainer._undone_steps_rate

    def slow_rate(self, *args):  # the real probe (its steps undone), reported slow: a fit of about 30 steps
        undone.append(real_rate(self, *args))
        return 30 / (1000 * 0.85)

    monkeypatch.setattr(Trainer, "_undone_steps_rate", slow_rate)
    budgeted = Trainer(load_config(recipe, overrides), tmp_path / "budget", progress=False)
    result = budgeted.train(time_budget_s=0.001 if warmup == 400 else 1000)
    assert len(undone) == (0 if warmup == 400 else 1)
    fitted = json.loads((tmp_path / "budget" / "config.json").read_text())["train"]["steps"]
    assert result.step == fitted < 100_000 and fitted > 20
    card = json.loads((tmp_path / "budget" / "last.json").read_text())
    assert card["training"]["planned_steps"] == card["training"]["steps"] == fitted
    plain = Trainer(load_config(recipe, overrides + [f"train.steps={fitted}"]), tmp_path / "plain", progress=False)
    plain.train()
    a, b = _final_weights(tmp_path / "budget"), _final_weights(tmp_path / "plain")
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)


def test_interrupt_saves_a_checkpoint_that_resumes_exactly(tmp_path, synthetic_images):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=30, checkpoint_every=1000)
    Trainer(load_config(recipe), tmp_path / "ref", progress=False).train()

    def interrupt_at_17(step, _loss):
        if step == 17:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Trainer(load_config(recipe), tmp_path / "cut", progress=False).train(on_step=interrupt_at_17)
    assert json.loads((tmp_path / "cut" / "checkpoint" / "last.json").read_text())["step"] == 17
    Trainer(load_config(recipe), tmp_path / "cut", progress=False).train()
    a, b = _final_weights(tmp_path / "ref"), _final_weights(tmp_path / "cut")
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=1e-6)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_is_taken_at_the_end_of_the_step_and_resumes_exactly(tmp_path, synthetic_images, signum):
    # The signal arrives while step 17 is being made (its weights already updated, its
    # validation, log row and checkpoint not yet done): it is held until they are.
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=30, checkpoint_every=1000, val_every=17)
    Trainer(load_config(recipe), tmp_path / "ref", progress=False).train()

    def signal_at_17(step, _loss):
        if step == 17:
            os.kill(os.getpid(), signum)

    previous = signal.getsignal(signum)
    with pytest.raises(KeyboardInterrupt):
        Trainer(load_config(recipe), tmp_path / "cut", progress=False).train(on_step=signal_at_17)
    assert signal.getsignal(signum) is previous  # handlers restored
    assert json.loads((tmp_path / "cut" / "checkpoint" / "last.json").read_text())["step"] == 17
    with open(tmp_path / "cut" / "log.csv") as handle:
        rows = {int(r["step"]): r for r in csv.DictReader(handle)}
    assert rows[17]["val_psnr"]  # the validation of step 17 was not lost to the signal
    Trainer(load_config(recipe), tmp_path / "cut", progress=False).train()
    a, b = _final_weights(tmp_path / "ref"), _final_weights(tmp_path / "cut")
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=1e-6)


def test_a_budget_run_resumes_with_the_steps_it_was_fitted_to(tmp_path, synthetic_images, monkeypatch):
    from superres.training import trainer as trainer_module

    fits = []

    class FixedBudget:  # fits the run to 24 steps at step 3, without a clock
        rate = 1.0
        probe_outside_warmup = False

        def __init__(self, budget_s, start_step, config):
            self.start_step = start_step

        def fit(self, step):
            if step == self.start_step + 3:
                fits.append(step)
                return 24
            return None

    monkeypatch.setattr(trainer_module, "_TimeBudget", FixedBudget)
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=100_000, checkpoint_every=1000)
    overrides = ["schedule.warmup_steps=10"]

    def interrupt_at_15(step, _loss):
        if step == 15:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Trainer(load_config(recipe, overrides), tmp_path / "cut", progress=False).train(
            time_budget_s=60, on_step=interrupt_at_15)
    assert fits == [3]
    # the same command again: the 24 fitted steps, not a new fit from step 15 (and its second warm-up)
    result = Trainer(load_config(recipe, overrides), tmp_path / "cut", progress=False).train(time_budget_s=60)
    assert fits == [3] and result.step == 24
    assert json.loads((tmp_path / "cut" / "config.json").read_text())["train"]["steps"] == 24
    Trainer(load_config(recipe, overrides + ["train.steps=24"]), tmp_path / "plain", progress=False).train()
    a, b = _final_weights(tmp_path / "plain"), _final_weights(tmp_path / "cut")
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=1e-6)
    # without the budget, the recipe's 100000 steps are not the fitted run's: refused, with the way out
    with pytest.raises(TrainingError, match=r"train.steps 24 -> 100000"):
        Trainer(load_config(recipe, overrides), tmp_path / "cut", progress=False).train()


def test_a_resume_with_other_settings_is_refused_in_one_line(tmp_path, synthetic_images):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=20, checkpoint_every=5)
    Trainer(load_config(recipe), tmp_path / "run", progress=False).train(stop_after=5)
    for change, shown in (("train.seed=7", "train.seed"), ("data.patch_size=10", "data.patch_size"),
                          ("optim.name=sgd", "optim.name")):
        with pytest.raises(TrainingError, match=shown) as info:
            Trainer(load_config(recipe, [change]), tmp_path / "run", progress=False).train()
        assert "\n" not in str(info.value)
    with pytest.raises(TrainingError, match="another model"):
        Trainer(load_config(recipe, ["model.args={ scales = [2], channels = 4, blocks = 1 }"]), tmp_path / "run",
                progress=False).train(allow_changes=True)
    # settings that do not change what is computed may change
    result = Trainer(load_config(recipe, ["train.log_every=2", "train.threads=1"]), tmp_path / "run",
                     progress=False).train()
    assert result.step == 20


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["model.args={ scales = [2], channels = 8, blocks = 1, bogus = 3 }"], "do not build a 'litesr'"),
        (["model.args={ scales = [2], channels = -8, blocks = 1 }"], "do not build a 'litesr'"),
        (["data.scales=[2, 3]", "train.val_scales=[2]"], "do not fit together"),  # the network serves x2 only
        (["model.input=upsampled"], "outputs of .* for targets of"),  # an LR-space network fed the upscaled image
        (["optim.lr_multipliers={ convX = 0.1 }"], "'convX' starts no parameter name"),
    ],
)
def test_recipe_mistakes_found_at_the_start_are_one_line(tmp_path, synthetic_images, overrides, message):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=5)
    with pytest.raises(TrainingError, match=message) as info:
        Trainer(load_config(recipe, overrides), tmp_path / "run", progress=False).train()
    assert "\n" not in str(info.value)
