"""Methods and architectures of another installed package, found through entry points."""

from __future__ import annotations

import json
from importlib.metadata import EntryPoint

import numpy as np
from PIL import Image

import superres.plugins as plugins
from superres.cli.main import main
from superres.methods import registry
from superres.models import registry as models_registry

PLUGIN = '''
import torch
from torch import nn
from superres.methods.base import MethodInfo, SRMethod
from superres.ops.resize import imresize_matlab


class Doubled(SRMethod):
    info = MethodInfo(name="my-sr", family="interpolation", summary="a plugin's method: bicubic")

    def _upscale(self, lr, scale):
        return imresize_matlab(lr, scale=scale)


def my_sr(**options):
    return Doubled()


def raises(**options):
    raise RuntimeError("plugin bug")


def not_a_method(**options):
    return 42


class MyNet(nn.Module):
    def __init__(self, width=4):
        super().__init__()
        self.conv = nn.Conv2d(1, width, 3, padding=1)
'''


def _install(tmp_path, monkeypatch):
    (tmp_path / "my_plugin.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    declared = {
        plugins.METHODS_GROUP: [EntryPoint("my-sr", "my_plugin:my_sr", plugins.METHODS_GROUP),
                                EntryPoint("bicubic", "my_plugin:my_sr", plugins.METHODS_GROUP)],
        plugins.ARCHITECTURES_GROUP: [EntryPoint("my-net", "my_plugin:MyNet", plugins.ARCHITECTURES_GROUP)],
    }
    monkeypatch.setattr(plugins, "entry_points", lambda group: declared.get(group, []))
    # the registries gain the plugins' names: restored after the test
    monkeypatch.setattr(registry, "METHODS", dict(registry.METHODS))
    monkeypatch.setattr(models_registry, "MODELS", dict(models_registry.MODELS))


def test_a_plugin_method_is_listed_evaluated_and_cannot_shadow_a_builtin(tmp_path, monkeypatch, capsys):
    _install(tmp_path, monkeypatch)
    assert main(["methods"]) == 0
    assert any(line.startswith("my-sr ") for line in capsys.readouterr().out.splitlines())
    folder = tmp_path / "images"
    folder.mkdir()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (24, 30, 3), dtype=np.uint8)).save(folder / "a.png")
    assert main(["evaluate", "-m", "my-sr,bicubic", "-d", str(folder), "-s", "2", "-f", "json"]) == 0
    mine, builtin = json.loads(capsys.readouterr().out)["results"]
    # float bicubic, where the built-in rounds uint8 between its passes: nearly the same score
    assert mine["method"] == "my-sr" and abs(mine["mean"]["psnr"] - builtin["mean"]["psnr"]) < 0.01
    assert registry.METHODS["bicubic"] == "superres.methods.interpolation:bicubic"  # the built-in name wins


def test_a_plugin_architecture_builds_by_name(tmp_path, monkeypatch):
    _install(tmp_path, monkeypatch)
    net = models_registry.build_model("my-net", width=6)
    assert type(net).__name__ == "MyNet" and net.conv.out_channels == 6



def test_a_plugin_method_is_found_by_name_without_a_listing_first(tmp_path, monkeypatch):
    _install(tmp_path, monkeypatch)
    assert registry.get_method("my-sr").info.name == "my-sr"  # as `superres upscale -m my-sr` does


def test_an_entry_point_that_names_no_attribute_is_left_out(tmp_path, monkeypatch, capsys):
    _install(tmp_path, monkeypatch)
    declared = [EntryPoint("half-done", "my_plugin", plugins.METHODS_GROUP)]  # a module, not module:factory
    monkeypatch.setattr(plugins, "entry_points", lambda group: declared if group == plugins.METHODS_GROUP else [])
    assert main(["methods"]) == 0
    assert "half-done" not in registry.METHODS and "half-done" not in capsys.readouterr().out


def test_a_broken_plugin_is_reported_in_one_line_and_the_others_still_work(tmp_path, monkeypatch, capsys):
    _install(tmp_path, monkeypatch)
    group = plugins.METHODS_GROUP
    declared = [EntryPoint("my-sr", "my_plugin:my_sr", group), EntryPoint("ghost", "my_plugin:nothing_here", group),
                EntryPoint("crashes", "my_plugin:raises", group), EntryPoint("wrong", "my_plugin:not_a_method", group)]
    monkeypatch.setattr(plugins, "entry_points", lambda group=None: declared if group == plugins.METHODS_GROUP else [])
    assert main(["methods"]) == 0
    out = capsys.readouterr().out
    assert any(line.startswith("my-sr ") for line in out.splitlines())
    for name, why in [("ghost", "does not exist"), ("crashes", "RuntimeError: plugin bug"), ("wrong", "not an SRMethod")]:
        assert name in out and why in out, (name, out)
    assert main(["upscale", "x.png", "-m", "crashes", "-s", "2"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "failed to build" in err[0]
    # superres models lists the plugin as superres methods does
    assert main(["models", "-f", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["method"] for row in rows].count("my-sr") == 1


def test_an_architecture_plugin_whose_module_is_missing_is_one_error(tmp_path, monkeypatch):
    import pytest

    from superres.errors import SuperresError

    _install(tmp_path, monkeypatch)
    monkeypatch.setattr(plugins, "entry_points",
                        lambda group=None: [EntryPoint("lost-net", "no_such_module:Net", plugins.ARCHITECTURES_GROUP)] if group == plugins.ARCHITECTURES_GROUP else [])
    with pytest.raises(SuperresError, match="'lost-net' .* cannot be loaded"):
        models_registry.build_model("lost-net")


def test_superres_models_lists_a_plugin_method_without_a_listing_first(tmp_path, monkeypatch, capsys):
    _install(tmp_path, monkeypatch)
    assert "my-sr" not in registry.METHODS  # nothing has looked the plugins up yet
    assert main(["models", "-f", "json"]) == 0
    rows = [row for row in json.loads(capsys.readouterr().out) if row["method"] == "my-sr"]
    assert len(rows) == 1 and rows[0]["family"] == "interpolation"
