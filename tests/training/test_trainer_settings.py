"""Trainer settings each taken as given: optimiser, losses, loss border, clipping, best, validation, log, seed."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from superres.training.config import load_config
from superres.training.trainer import Trainer, lr_at_step

from conftest import write_recipe


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SUPERRES_CACHE", str(tmp_path / "cache"))


def _trainer(tmp_path, images, overrides=(), **recipe):
    recipe.setdefault("steps", 10)
    config = load_config(write_recipe(tmp_path / "r.toml", images, **recipe), list(overrides))
    return Trainer(config, tmp_path / "run", progress=False)


def test_the_optimiser_takes_every_optim_setting(tmp_path, synthetic_images):
    cases = [
        (["optim.name=sgd", "optim.momentum=0.5", "optim.weight_decay=0.01"], torch.optim.SGD,
         {"momentum": 0.5, "weight_decay": 0.01}),
        (["optim.name=adam", "optim.betas=[0.8, 0.9]", "optim.weight_decay=0.02"], torch.optim.Adam,
         {"betas": (0.8, 0.9), "weight_decay": 0.02}),
        (["optim.name=adamw", "optim.betas=[0.7, 0.95]", "optim.weight_decay=0.03"], torch.optim.AdamW,
         {"betas": (0.7, 0.95), "weight_decay": 0.03}),
    ]
    for overrides, kind, settings in cases:
        trainer = _trainer(tmp_path, synthetic_images, overrides)
        optimizer = trainer.build_optimizer(trainer.build_model())
        assert type(optimizer) is kind, overrides
        for group in optimizer.param_groups:  # every group, whatever its rate multiplier
            for key, value in settings.items():
                assert group[key] == pytest.approx(value), (overrides, key)


def test_l1_and_charbonnier_losses_are_their_formulas(tmp_path, synthetic_images):
    target = torch.zeros(2, 1, 4, 4)
    pred = torch.full_like(target, 0.5)
    l1 = _trainer(tmp_path, synthetic_images, ['train.loss="l1"'])
    assert l1.loss_fn(pred, target).item() == pytest.approx(0.5)
    charb = _trainer(tmp_path, synthetic_images, ['train.loss="charbonnier"'])
    assert charb.loss_fn(pred, target).item() == pytest.approx((0.25 + 1e-6) ** 0.5)
    assert charb.loss_fn(target, target).item() == pytest.approx(1e-3)  # sqrt(eps) at a perfect prediction


def test_a_loss_border_of_one_pixel_is_left_out(tmp_path, synthetic_images):
    trainer = _trainer(tmp_path, synthetic_images, ["train.loss_border=1"])
    target = torch.zeros(1, 1, 8, 8)
    pred = target.clone()
    pred[..., 0, :] = 1.0  # wrong only in the outer ring
    pred[..., :, -1] = 1.0
    assert trainer.loss_fn(*trainer._scored(pred, target, target)).item() == 0.0
    assert trainer._scored(pred, target, target)[0].shape[-2:] == (6, 6)


class _TwoStages(nn.Module):
    """A cascade stand-in: a half-size stage off by 1 and a full-size output off by 3."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(()))

    def forward(self, x, scale, return_stages=False):
        assert return_stages
        h, w = x.shape[-2:]
        half = torch.zeros(x.shape[0], 1, h, w) + self.w + 1.0
        full = torch.zeros(x.shape[0], 1, 2 * h, 2 * w) + self.w + 3.0
        return [half, full]

    def stage_targets(self, hr, scale):
        return [torch.zeros(hr.shape[0], 1, hr.shape[-2] // 2, hr.shape[-1] // 2), hr]


def test_a_staged_loss_is_the_mean_of_every_stages_loss(tmp_path, synthetic_images):
    trainer = _trainer(tmp_path, synthetic_images)  # mse, input "lr"
    inputs, targets = torch.zeros(2, 1, 4, 4), torch.zeros(2, 1, 8, 8)
    loss = trainer.batch_loss(_TwoStages(), inputs, targets, 2)
    assert loss.item() == pytest.approx((1.0 + 9.0) / 2)  # not the sum (10), not the last stage alone (9)


def test_each_update_clips_its_gradients_at_the_scheduled_rate(tmp_path, synthetic_images, monkeypatch):
    trainer = _trainer(tmp_path, synthetic_images, ["optim.name=sgd", "optim.momentum=0", 'clip.mode="value"',
                                                    "clip.value=1e-6"], steps=3, checkpoint_every=100)
    start = {k: v.clone() for k, v in trainer.build_model().state_dict().items()}
    seen = []
    real = Trainer.clip_gradients

    def recording(self, model, lr):
        seen.append(lr)
        return real(self, model, lr)

    monkeypatch.setattr(Trainer, "clip_gradients", recording)
    trainer.train()
    # the cosine's rate of each step, not the recipe's base rate
    assert seen == pytest.approx([lr_at_step(trainer.config, s) for s in range(3)])
    bound = sum(seen) * 1e-6 * 1.001  # plain SGD: each step moves a weight by at most lr * clip
    for key, value in trainer.model.state_dict().items():
        assert (value.float() - start[key].float()).abs().max().item() <= bound, key


def test_the_sampler_and_the_pairs_take_the_data_settings(tmp_path, synthetic_images, monkeypatch):
    import superres.data.patches as patches

    seen = {}
    real_prepare = patches.prepare_pairs

    class Stop(Exception):
        pass

    def prepare(files, scales, **kwargs):
        seen["prepare"] = kwargs
        return real_prepare(files, scales, **kwargs)

    def sampler(pairs, **kwargs):
        seen["sampler"] = kwargs
        raise Stop

    monkeypatch.setattr(patches, "prepare_pairs", prepare)
    monkeypatch.setattr(patches, "PatchSampler", sampler)
    trainer = _trainer(tmp_path, synthetic_images, ["data.downscales=[1.0, 0.8]", 'data.patch_mode="grid"',
                                                    "data.stride=5", "data.label_border=2", "data.augment=false",
                                                    "train.seed=11"],
                       architecture="srcnn", args="{ f1 = 9, f2 = 1, f3 = 5 }", input_mode="upsampled", patch=20)
    with pytest.raises(Stop):
        trainer.train()
    assert tuple(seen["prepare"]["downscales"]) == (1.0, 0.8) and seen["prepare"]["input_mode"] == "upsampled"
    assert seen["sampler"] == {"patch_size": 20, "batch_size": 4, "mode": "grid", "stride": 5, "label_border": 2,
                               "augment": False, "seed": 11}


def test_valid_training_trains_valid_and_goes_back_to_it_after_each_validation(tmp_path, synthetic_images, monkeypatch):
    # SRCNN 9-1-5 'valid': a 21-pixel output for a 33-pixel patch, label_border 6; validation in between
    # runs it with replicated borders (full size) and must hand it back 'valid'.  round_y_input reaches
    # the validation's method.
    from superres.methods.learned import LearnedMethod

    options = []
    real = LearnedMethod.from_model.__func__

    def from_model(cls, info, model, card, **kwargs):
        options.append(kwargs.get("round_y_input"))
        return real(cls, info, model, card, **kwargs)

    monkeypatch.setattr(LearnedMethod, "from_model", classmethod(from_model))
    trainer = _trainer(tmp_path, synthetic_images, ["model.valid_training=true", "data.label_border=6",
                                                    "model.round_y_input=true"],
                       architecture="srcnn", args="{ f1 = 9, f2 = 1, f3 = 5 }", input_mode="upsampled", patch=33,
                       steps=2, val_every=1, checkpoint_every=100)
    result = trainer.train()
    assert result.step == 2 and options == [True, True]
    assert trainer.model.padding == "valid"


def test_best_is_the_highest_validation_and_a_resume_keeps_it(tmp_path, synthetic_images, monkeypatch):
    import json

    psnrs = iter([30.0, 32.0, 31.0, 29.0])
    monkeypatch.setattr(Trainer, "validate", lambda self, model, state: next(psnrs))
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=4, val_every=1, checkpoint_every=1)
    Trainer(load_config(recipe), tmp_path / "run", progress=False).train(stop_after=2)  # 30, 32
    result = Trainer(load_config(recipe), tmp_path / "run", progress=False).train()  # resumed: 31, 29
    assert result.best_psnr == 32.0
    best = json.loads((tmp_path / "run" / "best.json").read_text())["training"]
    assert best["steps"] == 2 and best["best_val_psnr"] == 32.0


def test_validation_is_the_mean_over_val_scales_else_the_trained_scales(tmp_path, synthetic_images, monkeypatch):
    from types import SimpleNamespace

    import superres.evaluation.benchmark as benchmark

    asked = []

    def evaluate(method, dataset, scale, **kwargs):
        asked.append(scale)
        return SimpleNamespace(mean_psnr=30.0 + scale)

    monkeypatch.setattr(benchmark, "evaluate_method", evaluate)
    state = {"step": 0, "best_psnr": None, "wall_time_s": 0.0}
    for extra, scales in (("val_scales = [3]", [3.0]), ("", [2.0, 3.0])):
        trainer = _trainer(tmp_path, synthetic_images, scales=(2, 3), args="{ scales = [2, 3], channels = 8, blocks = 1 }",
                           extra=extra)
        asked.clear()
        assert trainer.validate(trainer.build_model(), state) == pytest.approx(30.0 + sum(scales) / len(scales))
        assert asked == scales


def test_the_log_holds_the_mean_loss_of_its_window_and_the_rate_of_the_step(tmp_path, synthetic_images):
    import csv

    trainer = _trainer(tmp_path, synthetic_images, steps=10, checkpoint_every=100)  # cosine, log_every 5
    losses = []
    trainer.train(on_step=lambda step, loss: losses.append(loss))
    with open(tmp_path / "run" / "log.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["step"]) for r in rows] == [5, 10]
    for row, window, step in zip(rows, (losses[:5], losses[5:]), (4, 9)):
        assert float(row["loss"]) == pytest.approx(sum(window) / 5, rel=1e-5)
        assert float(row["lr"]) == pytest.approx(lr_at_step(trainer.config, step), rel=1e-3)


def test_a_resume_with_another_loss_border_is_refused(tmp_path, synthetic_images):
    from superres.errors import TrainingError

    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=8, checkpoint_every=2)
    Trainer(load_config(recipe), tmp_path / "run", progress=False).train(stop_after=2)
    with pytest.raises(TrainingError, match="train.loss_border 0 -> 1"):
        Trainer(load_config(recipe, ["train.loss_border=1"]), tmp_path / "run", progress=False).train()


def test_stop_after_counts_from_the_step_a_run_resumes_at(tmp_path, synthetic_images):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=8, checkpoint_every=100)
    assert Trainer(load_config(recipe), tmp_path / "run", progress=False).train(stop_after=2).step == 2
    assert Trainer(load_config(recipe), tmp_path / "run", progress=False).train(stop_after=2).step == 4


def test_the_initial_weights_follow_train_seed(tmp_path, synthetic_images):
    def weights(seed):
        trainer = _trainer(tmp_path, synthetic_images, [f"train.seed={seed}"])
        return trainer.build_model().state_dict()

    a, b, c = weights(0), weights(7), weights(7)
    assert all(torch.equal(b[k], c[k]) for k in b)
    assert any(not torch.equal(a[k], b[k]) for k in a)
