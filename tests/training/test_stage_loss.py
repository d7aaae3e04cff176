"""The trainer's model hooks: a loss at every stage (stage_targets), init_from through load_initial_weights,
and init_into (weights into one submodule)."""

from __future__ import annotations

import json
import math

import pytest
import torch

from superres.models.scn import SCN, CascadeSCN
from superres.errors import DataNotFoundError, TrainingError
from superres.training.config import load_config
from superres.training.trainer import Trainer
from superres.weights.store import save_weights

from conftest import write_recipe


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SUPERRES_CACHE", str(tmp_path / "cache"))


def test_cascade_trains_with_a_loss_at_every_stage(tmp_path, synthetic_images, monkeypatch):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=60, scales=(2, 4), architecture="cscn",
                          args="{ atoms = 16, distinct = 2 }", input_mode="lr", patch=10, batch=4, lr=3e-3,
                          checkpoint_every=60)
    calls = []
    original = CascadeSCN.stage_targets

    def spy(self, hr, scale):
        targets = original(self, hr, scale)
        calls.append((scale, [tuple(t.shape[-2:]) for t in targets]))
        return targets

    monkeypatch.setattr(CascadeSCN, "stage_targets", spy)
    losses = []
    result = Trainer(load_config(recipe), tmp_path / "run", progress=False).train(on_step=lambda s, loss: losses.append(loss))
    assert result.step == 60
    assert sum(losses[-15:]) / 15 < 0.8 * sum(losses[:15]) / 15
    # x4 batches were scored at the x2 stage (20x20) and at the x4 output (40x40)
    assert (4, [(20, 20), (40, 40)]) in calls and (2, [(20, 20)]) in calls
    assert (tmp_path / "run" / "last.safetensors").exists()


def test_plain_models_still_take_one_loss(tmp_path, synthetic_images):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=30, architecture="scn",
                          args="{ atoms = 16 }", input_mode="upsampled", patch=16, batch=4, lr=3e-3, checkpoint_every=30)
    losses = []
    Trainer(load_config(recipe), tmp_path / "run", progress=False).train(on_step=lambda s, loss: losses.append(loss))
    assert sum(losses[-10:]) / 10 < sum(losses[:10]) / 10


def test_init_from_goes_through_load_initial_weights(tmp_path, synthetic_images):
    torch.manual_seed(5)
    scn = SCN(atoms=16)
    path = save_weights(tmp_path / "scn-x2.safetensors", scn.state_dict(),
                        {"architecture": "scn", "model_args": {"atoms": 16}, "scales": [2], "input": "upsampled"})
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=1, architecture="cscn",
                          args="{ atoms = 16, distinct = 2 }", input_mode="lr")
    config = load_config(recipe, [f'model.init_from="{path}"'])
    model = Trainer(config, tmp_path / "run", progress=False).build_model()
    for net in model.scn:
        assert torch.equal(net.Dx.weight, scn.Dx.weight) and torch.equal(net.S.weight, scn.S.weight)


def test_init_into_replaces_one_stage_of_a_cascade_start(tmp_path, synthetic_images):
    torch.manual_seed(6)
    cascade, first = CascadeSCN(atoms=16, distinct=2), SCN(atoms=16)
    cascade_card = {"architecture": "cscn", "model_args": {"atoms": 16, "distinct": 2}, "scales": [2], "input": "lr"}
    whole = save_weights(tmp_path / "cscn.safetensors", cascade.state_dict(), cascade_card)
    part = save_weights(tmp_path / "scn.safetensors", first.state_dict(),
                        {"architecture": "scn", "model_args": {"atoms": 16}, "scales": [2], "input": "upsampled"})
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=1, architecture="cscn",
                          args="{ atoms = 16, distinct = 2 }", input_mode="lr")
    config = load_config(recipe, [f'model.init_from="{whole}"', f'model.init_into={{"scn.0" = "{part}"}}'])
    model = Trainer(config, tmp_path / "run", progress=False).build_model()
    assert all(torch.equal(a, b) for a, b in zip(model.scn[0].state_dict().values(), first.state_dict().values()))
    assert all(torch.equal(a, b) for a, b in zip(model.scn[1].state_dict().values(), cascade.scn[1].state_dict().values()))
    assert not torch.equal(model.scn[0].S.weight, cascade.scn[0].S.weight)

    for override, message in [('model.init_into={"scn.5" = "x"}', "no submodule 'scn.5'"),
                              (f'model.init_into={{"scn" = "{part}"}}', "does not fit 'scn'"),
                              (f'model.init_from="{part}"', None)]:
        trainer = Trainer(load_config(recipe, [override]), tmp_path / "run", progress=False)
        if message is None:
            trainer.build_model()  # an SCN start fits a cascade through load_initial_weights
        else:
            with pytest.raises(TrainingError, match=message):
                trainer.build_model()
    small = save_weights(tmp_path / "small.safetensors", SCN(atoms=8).state_dict(),
                         {"architecture": "scn", "model_args": {"atoms": 8}, "scales": [2], "input": "upsampled"})
    with pytest.raises(TrainingError, match=r"init_from .* does not fit the model: size mismatch for theta"):
        Trainer(load_config(recipe, [f'model.init_from="{small}"']), tmp_path / "run", progress=False).build_model()


def test_loss_border_scores_only_the_interior(tmp_path, synthetic_images):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=1, architecture="scn", args="{ atoms = 16 }",
                          input_mode="upsampled", patch=16)
    trainer = Trainer(load_config(recipe, ["train.loss_border=3"]), tmp_path / "run", progress=False)
    target = torch.rand(2, 1, 16, 16)
    pred = target.clone()
    pred[..., :3, :] += 0.5  # wrong only in the left-out band...
    pred[..., :, -3:] -= 0.5
    assert torch.equal(trainer.loss_fn(*trainer._scored(pred, target, target)), torch.tensor(0.0))
    pred[..., 3, 3] += 0.5  # ...and here, the interior's first pixel
    assert trainer.loss_fn(*trainer._scored(pred, target, target)) == pytest.approx(2 * 0.25 / (2 * 10 * 10))  # in both images
    # a cascade's half-size stage leaves out half as many pixels (rounded up)
    half = torch.rand(2, 1, 8, 8)
    assert trainer._scored(half, half, target)[0].shape[-2:] == (4, 4)


def test_loss_border_trains_and_refuses_a_border_that_leaves_nothing(tmp_path, synthetic_images):
    recipe = write_recipe(tmp_path / "r.toml", synthetic_images, steps=30, architecture="scn", args="{ atoms = 16 }",
                          input_mode="upsampled", patch=16, batch=4, lr=3e-3, checkpoint_every=30)
    losses = []
    Trainer(load_config(recipe, ["train.loss_border=4"]), tmp_path / "run", progress=False).train(
        on_step=lambda s, loss: losses.append(loss))
    assert sum(losses[-10:]) / 10 < sum(losses[:10]) / 10
    with pytest.raises(TrainingError, match="loss_border=8"):
        Trainer(load_config(recipe, ["train.loss_border=8"]), tmp_path / "run2", progress=False).train()


def test_a_cascade_validates_at_scales_it_was_not_trained_at_and_other_models_refuse_them_up_front(tmp_path, synthetic_images):
    # The cascade serves any factor, so its x2 validation works after training x3/x4 only...
    recipe = write_recipe(tmp_path / "c.toml", synthetic_images, steps=2, scales=(4,), architecture="cscn",
                          args="{ atoms = 16, distinct = 2 }", input_mode="lr", patch=10, batch=2, val_every=2,
                          checkpoint_every=2, extra="val_scales = [2, 4]")
    result = Trainer(load_config(recipe), tmp_path / "cascade", progress=False).train()
    assert result.step == 2 and math.isfinite(result.best_psnr)  # validated (a run that never is gives nan)
    assert json.loads((tmp_path / "cascade" / "best.json").read_text())["training"]["steps"] == 2
    # ...while an x2 SCN asked to validate at x3 stops before its first step, not at its first validation
    recipe = write_recipe(tmp_path / "s.toml", synthetic_images, steps=2, architecture="scn", args="{ atoms = 16 }",
                          input_mode="upsampled", patch=16, val_every=2, extra="val_scales = [3]")
    steps = []
    with pytest.raises(TrainingError, match=r"val_scales \[3\] are not trained"):
        Trainer(load_config(recipe), tmp_path / "scn", progress=False).train(on_step=lambda s, loss: steps.append(s))
    assert steps == []


def test_a_misspelt_validation_set_stops_the_run_before_its_first_step(tmp_path, synthetic_images):
    recipe = write_recipe(tmp_path / "s.toml", synthetic_images, steps=20, architecture="srcnn", args="{}",
                          input_mode="upsampled", patch=16, val_every=15, val_dataset="Set55")
    steps = []
    with pytest.raises(DataNotFoundError, match="Set55"):
        Trainer(load_config(recipe), tmp_path / "run", data_dir=synthetic_images.parent, progress=False).train(
            on_step=lambda s, loss: steps.append(s))
    assert steps == []


def test_a_misspelt_training_set_leaves_no_run_folder(tmp_path, synthetic_images):
    recipe = write_recipe(tmp_path / "s.toml", synthetic_images, steps=20, architecture="srcnn", args="{}",
                          input_mode="upsampled", patch=16, val_every=15)
    config = load_config(recipe, ['data.train=["T9l"]'])
    with pytest.raises(DataNotFoundError, match="T9l"):
        Trainer(config, tmp_path / "run", data_dir=synthetic_images.parent, progress=False).train()
    assert not (tmp_path / "run").exists()  # config.json was written before the set was looked up
