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


def test_layers_at_rate_zero_are_frozen_without_gradients(tmp_path, synthetic_images):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=10, architecture="srcnn",
                          args="{ f1 = 9, f2 = 1, f3 = 5 }", input_mode="upsampled")
    trainer = Trainer(load_config(recipe, ["optim.lr_multipliers={ conv1 = 0.0 }"]), tmp_path / "run", progress=False)
    initial = trainer.build_model().state_dict()
    trainer.train(stop_after=3)
    trained = trainer.model
    # no gradient is computed for them (the cascade's frozen first SCN costs no backward pass)...
    assert trained.conv1.weight.grad is None and not trained.conv1.weight.requires_grad
    # ... they keep their initial values, and the other layers do learn
    torch.testing.assert_close(trained.conv1.weight.detach(), initial["conv1.weight"], rtol=0, atol=0)
    assert trained.conv2.weight.grad is not None
    assert not torch.equal(trained.conv2.weight.detach(), initial["conv2.weight"])


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

    monkeypatch.setattr(trainer_module, "_TimeBudget", _FitsTo24)
    _FitsTo24.fits = fits = []
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


def test_a_first_signal_only_asks_and_a_second_sigint_lands_at_once():
    from superres.training.trainer import _StopRequests

    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    stop = _StopRequests()
    with stop.deferred():
        os.kill(os.getpid(), signal.SIGTERM)  # held: the loop stops at the end of its step
        assert stop.agreed(False, torch.device("cpu"))
        os.kill(os.getpid(), signal.SIGTERM)  # a second SIGTERM is still only a request
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)  # a second Ctrl-C: the user insists
            time.sleep(0)
    assert {sig: signal.getsignal(sig) for sig in previous} == previous


def test_a_run_trains_in_a_thread_other_than_the_main_one(tmp_path, synthetic_images):
    import threading

    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=3, checkpoint_every=1000)
    outcome = []

    def work():
        try:
            outcome.append(Trainer(load_config(recipe), tmp_path / "run", progress=False).train().step)
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    assert outcome == [3]  # Python installs signal handlers only in the main thread


def test_a_signal_during_the_last_step_lets_the_run_finish(tmp_path, synthetic_images):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=6, checkpoint_every=1000)

    def signal_at_the_end(step, _loss):
        if step == 6:
            os.kill(os.getpid(), signal.SIGTERM)

    try:
        result = Trainer(load_config(recipe), tmp_path / "run", progress=False).train(on_step=signal_at_the_end)
    except KeyboardInterrupt:
        pytest.fail("a signal in the last step must let the run finish, not interrupt it")
    assert result.step == 6 and (tmp_path / "run" / "last.safetensors").exists()


def test_every_setting_that_does_not_change_the_result_may_change_on_resume(tmp_path, synthetic_images):
    import shutil

    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=8, checkpoint_every=5)
    Trainer(load_config(recipe), tmp_path / "run", progress=False).train(stop_after=5)
    shutil.copytree(synthetic_images, tmp_path / "val")
    changes = ["train.threads=2", "train.workers=1", "train.log_every=3", "train.val_every=7",
               "train.checkpoint_every=2", f'train.val_dataset="{tmp_path / "val"}"', "train.val_scales=[2]",
               "train.channels_last=false"]
    result = Trainer(load_config(recipe, changes), tmp_path / "run", progress=False).train()
    assert result.step == 8


def test_a_checkpoint_of_an_older_version_without_a_newer_key_resumes(tmp_path, synthetic_images):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=8, checkpoint_every=5)
    Trainer(load_config(recipe), tmp_path / "run", progress=False).train(stop_after=5)
    last = tmp_path / "run" / "checkpoint" / "last.json"
    meta = json.loads(last.read_text())
    del meta["config"]["train"]["loss_border"]  # a key that version did not have yet
    last.write_text(json.dumps(meta))
    assert Trainer(load_config(recipe), tmp_path / "run", progress=False).train().step == 8


class _FitsTo24:
    """A time budget that fits the run to 24 steps three steps after it starts, without a clock."""

    fits: list[int] = []
    rate = 1.0
    probe_outside_warmup = False

    def __init__(self, budget_s, start_step, config):
        self.start_step = start_step

    def fit(self, step):
        if step == self.start_step + 3:
            _FitsTo24.fits.append(step)
            return 24
        return None


def test_a_budget_run_keeps_its_fitted_steps_through_every_resume(tmp_path, synthetic_images, monkeypatch):
    from superres.training import trainer as trainer_module

    monkeypatch.setattr(trainer_module, "_TimeBudget", _FitsTo24)
    _FitsTo24.fits = []
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=100_000, checkpoint_every=1000)
    config = load_config(recipe, ["schedule.warmup_steps=10"])

    def interrupt_at(at):
        def on_step(step, _loss):
            if step == at:
                raise KeyboardInterrupt
        return on_step

    for at in (15, 18):
        with pytest.raises(KeyboardInterrupt):
            Trainer(config, tmp_path / "cut", progress=False).train(time_budget_s=60, on_step=interrupt_at(at))
        assert json.loads((tmp_path / "cut" / "checkpoint" / "last.json").read_text())["fitted_steps"] == 24
    assert Trainer(config, tmp_path / "cut", progress=False).train(time_budget_s=60).step == 24
    assert _FitsTo24.fits == [3]  # fitted once, in the first leg


def test_a_finished_run_extended_under_a_budget_trains_its_new_steps(tmp_path, synthetic_images, monkeypatch):
    # A run that was never fitted to a budget has no fitted step count to keep: going on
    # with a new train.steps on a lent GPU trains, fitted from where it stands.
    from superres.training import trainer as trainer_module

    monkeypatch.setattr(trainer_module, "_TimeBudget", _FitsTo24)
    _FitsTo24.fits = []
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=100_000, checkpoint_every=1000)
    assert Trainer(load_config(recipe, ["train.steps=12"]), tmp_path / "run", progress=False).train().step == 12
    longer = Trainer(load_config(recipe, ["train.steps=40"]), tmp_path / "run", progress=False)
    assert longer.train(time_budget_s=60, allow_changes=True).step == 24
    assert _FitsTo24.fits == [15]
    assert json.loads((tmp_path / "run" / "config.json").read_text())["train"]["steps"] == 24


def test_a_budget_measured_on_undone_steps_counts_from_the_step_it_resumes_at(tmp_path, synthetic_images):
    from superres.training.trainer import _TimeBudget

    config = load_config(write_recipe(tmp_path / "r.toml", synthetic_images, steps=100_000))
    budget = _TimeBudget(1000, 500, config)  # a run resumed at step 500, cosine without warm-up
    assert budget.probe_outside_warmup
    budget.measured(0.1)  # about 85 more steps fit
    assert 500 < budget.fit(500) <= 585
    assert budget.fit(501) is None


def test_out_of_memory_in_the_first_step_is_not_called_a_recipe_mistake(tmp_path, synthetic_images, monkeypatch):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=5)

    def out_of_memory(self, *args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(Trainer, "batch_loss", out_of_memory)
    with pytest.raises(torch.OutOfMemoryError):
        Trainer(load_config(recipe), tmp_path / "run", progress=False).train()


def test_an_error_after_the_first_step_is_raised_as_it_is(tmp_path, synthetic_images, monkeypatch):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=5)
    real_batch_loss, calls = Trainer.batch_loss, []

    def fails_on_the_second_step(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise ValueError("a bug of step 2")
        return real_batch_loss(self, *args, **kwargs)

    monkeypatch.setattr(Trainer, "batch_loss", fails_on_the_second_step)
    with pytest.raises(ValueError, match="a bug of step 2"):  # not a recipe mistake: a traceback
        Trainer(load_config(recipe), tmp_path / "run", progress=False).train()


def test_an_unknown_architecture_is_not_blamed_on_model_args(tmp_path, synthetic_images):
    from superres.errors import UnknownNameError

    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=5)
    with pytest.raises(UnknownNameError, match="unknown architecture 'litesrr'") as info:
        Trainer(load_config(recipe, ['model.architecture="litesrr"']), tmp_path / "run", progress=False).build_model()
    assert "model.args" not in str(info.value)


def test_an_lr_multiplier_prefix_must_start_a_parameter_name_not_only_occur_in_one(tmp_path, synthetic_images):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=5)
    trainer = Trainer(load_config(recipe, ["optim.lr_multipliers={ weight = 0.1 }"]), tmp_path / "run", progress=False)
    with pytest.raises(TrainingError, match="'weight' starts no parameter name"):
        trainer.build_optimizer(trainer.build_model())


def test_a_missing_scale_is_named_as_such_in_the_one_line(tmp_path, synthetic_images):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=5)
    with pytest.raises(TrainingError, match=r"do not fit together \(no entry '3'\)"):
        Trainer(load_config(recipe, ["data.scales=[2, 3]", "train.val_scales=[2]"]), tmp_path / "run",
                progress=False).train()


def test_outputs_of_another_shape_are_refused_even_with_as_many_values(tmp_path, synthetic_images):
    # a network that forgot its pixel shuffle: (1, 4, 6, 6) holds as many values as a (1, 1, 12, 12) target
    trainer = Trainer(load_config(write_recipe(tmp_path / "r.toml", synthetic_images, steps=5)), tmp_path / "run",
                      progress=False)
    target = torch.zeros(1, 1, 12, 12)
    with pytest.raises(TrainingError, match=r"outputs of \(1, 4, 6, 6\) for targets of \(1, 1, 12, 12\)"):
        trainer._scored(torch.zeros(1, 4, 6, 6), target, target)


def test_a_resume_takes_the_checkpoints_weights_wherever_the_initial_ones_now_lie(tmp_path, synthetic_images):
    import shutil

    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=8, checkpoint_every=5)
    Trainer(load_config(recipe), tmp_path / "start", progress=False).train()
    first = tmp_path / "start" / "last.safetensors"
    moved = tmp_path / "moved" / "start.safetensors"
    moved.parent.mkdir()
    shutil.copy(first, moved)
    shutil.copy(first.with_suffix(".json"), moved.with_suffix(".json"))
    Trainer(load_config(recipe, [f'model.init_from="{first}"']), tmp_path / "run", progress=False).train(stop_after=5)
    result = Trainer(load_config(recipe, [f'model.init_from="{moved}"']), tmp_path / "run", progress=False).train()
    assert result.step == 8
    Trainer(load_config(recipe, [f'model.init_from="{first}"']), tmp_path / "plain", progress=False).train()
    a, b = _final_weights(tmp_path / "plain"), _final_weights(tmp_path / "run")
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=1e-6)


@pytest.mark.filterwarnings("ignore:.*to a meta parameter")  # the meta model takes no values, as intended
def test_a_resume_leaves_adams_step_counter_where_torch_keeps_it(tmp_path, synthetic_images):
    # torch keeps Adam's "step" on the CPU (a GPU copy costs a sync per parameter per step);
    # the moments go to each parameter's device.  The meta device stands in for a GPU.
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=5, checkpoint_every=5)
    Trainer(load_config(recipe), tmp_path / "run", progress=False).train()
    resumer = Trainer(load_config(recipe), tmp_path / "run", progress=False)
    resumer.device = torch.device("meta")
    model = resumer.build_model().to(resumer.device)
    optimizer = resumer.build_optimizer(model)
    assert resumer.load_checkpoint(model, optimizer) is not None
    state = optimizer.state[next(model.parameters())]
    assert state["step"].device.type == "cpu" and state["exp_avg"].device.type == "meta"


def test_ctrl_c_to_the_process_group_saves_a_checkpoint_with_batch_workers(tmp_path, synthetic_images):
    # Ctrl-C in a terminal (and `timeout -s INT`, as recipes/gpu-session.sh stops its runs) reaches
    # the batch workers too: they died, the loader raised mid-step and no checkpoint was saved
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=100000, checkpoint_every=100000,
                          extra="workers = 2")
    env = dict(os.environ, SUPERRES_CACHE=str(tmp_path / "cache"), OMP_NUM_THREADS="1")
    run = subprocess.Popen([sys.executable, "-m", "superres", "train", str(recipe), "--run-dir", str(tmp_path / "run")],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    log = tmp_path / "run" / "log.csv"
    deadline = time.time() + 300
    while (not log.exists() or len(log.read_text().splitlines()) < 3) and time.time() < deadline and run.poll() is None:
        time.sleep(0.05)  # two logged rows: the workers are running
    os.killpg(run.pid, signal.SIGINT)
    _, err = run.communicate(timeout=300)
    assert "Traceback" not in err and "interrupted at step" in err, err
    step = json.loads((tmp_path / "run" / "checkpoint" / "last.json").read_text())["step"]
    assert step >= 10


def test_a_resume_drops_the_log_rows_written_after_its_checkpoint(tmp_path, synthetic_images):
    # a run killed between a logged step (15) and its next checkpoint (20) left rows that the
    # resumed run writes again; the log must hold each step once
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=20, checkpoint_every=10)
    Trainer(load_config(recipe), tmp_path / "run", progress=False).train(stop_after=10)
    log = tmp_path / "run" / "log.csv"
    rows = log.read_text().splitlines()
    assert [int(r.split(",")[0]) for r in rows[1:]] == [5, 10]
    log.write_text("\n".join(rows + [rows[-1].replace("10,", "15,", 1)]) + "\n")  # the killed run's step 15
    Trainer(load_config(recipe), tmp_path / "run", progress=False).train()
    assert [int(r.split(",")[0]) for r in log.read_text().splitlines()[1:]] == [5, 10, 15, 20]
