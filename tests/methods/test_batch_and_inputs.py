"""Every method treats each image of a batch as if it came alone, leaves its input
alone and returns ordinary tensors; bad arguments get one-line errors."""

from __future__ import annotations

import pytest
import torch

import superres
from superres.errors import InvalidArgumentError
from superres.methods.registry import get_method


def _eight_bit(*shape: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, shape, generator=g).float() / 255


_PER_IMAGE_OPTIONS = {"btv": {"iterations": 8}, "gpp": {"iterations": 5}}


@pytest.mark.parametrize(
    "name, scale",
    [("bicubic", 3.0), ("lanczos3", 2.0), ("btv", 2.0), ("selfex", 2.0), ("gpp", 2.0), ("glasner", 2.0), ("scsr", 3.0)],
)
def test_each_image_of_a_batch_gets_what_it_gets_alone(name, scale):
    # bicubic: an 8-bit image goes MATLAB's uint8 way, a float one the float way, even
    # beside each other; btv, gpp: their own step sizes; selfex: its own random draws;
    # glasner, scsr: their own back-projection (all through methods.base.each_image)
    size = (1, 3, 12, 14) if name in ("bicubic", "lanczos3") else (1, 1, 12, 14)
    eight_bit = _eight_bit(*size)
    other = torch.rand(*size, generator=torch.Generator().manual_seed(1))
    method = get_method(name, **_PER_IMAGE_OPTIONS.get(name, {}))
    batch = method.upscale(torch.cat([eight_bit, other]), scale)
    for i, alone in enumerate((eight_bit, other)):
        torch.testing.assert_close(batch[i : i + 1], method.upscale(alone, scale), rtol=0, atol=1e-6)


def test_a_learned_methods_gray_output_is_an_ordinary_tensor():
    out = superres.load_model("vdsr").upscale(torch.rand(1, 1, 12, 12), 2)
    assert not out.is_inference()
    out.clamp_(0, 1)  # an inference tensor refuses in-place changes outside inference mode


def test_the_scale_may_be_a_numeric_string_for_every_step():
    lr = torch.rand(1, 3, 6, 7)
    torch.testing.assert_close(get_method("bicubic").upscale(lr, "2.5"), get_method("bicubic").upscale(lr, 2.5))


def test_upscale_uses_a_method_object_as_it_is(tmp_path):
    method = superres.load_model("vdsr", precision="bf16")
    image = (torch.rand(1, 3, 10, 12) * 255).to(torch.uint8)
    before = superres.upscale(image, 2, method)
    assert method.precision == "bf16"  # not reset to the call's precision="auto"
    alone = superres.upscale(image, 2, superres.load_model("vdsr", precision="fp32"))
    assert not torch.equal(before, alone)  # bf16 was really used
    assert torch.equal(superres.upscale(image, 2, method), before)


def test_list_models_gives_a_learned_networks_real_context():
    from superres.inference import receptive_radius

    infos = {info.name: info for info in superres.list_models()}
    vdsr = get_method("vdsr")
    # vdsr takes any factor on a bicubic-upscaled input: the widest context is just above x1
    assert infos["vdsr"].receptive_radius == receptive_radius(vdsr, 1.000001) > receptive_radius(vdsr, 2.0) > 0
    assert infos["srcnn-955"].receptive_radius == receptive_radius(get_method("srcnn-955"), 2.0) > 0
    assert infos["bicubic"].receptive_radius == 2 and infos["ibp"].receptive_radius is None


def test_list_models_builds_each_method_once(monkeypatch):
    from collections import Counter

    from superres.methods import registry

    built = Counter()
    real_get_method = registry.get_method

    def counting_get_method(name, **options):
        built[name] += 1
        return real_get_method(name, **options)

    monkeypatch.setattr(registry, "get_method", counting_get_method)
    names = [info.name for info in superres.list_models()]
    assert "vdsr" in names and set(built) >= set(names) and max(built.values()) == 1


def test_btv_keeps_the_input_dtype():
    out = get_method("btv", iterations=2).upscale(torch.rand(1, 1, 8, 8, dtype=torch.float64), 2)
    assert out.dtype == torch.float64


def _source(tmp_path):
    import numpy as np

    from superres.io import write_image

    source = tmp_path / "in.png"
    write_image(source, (np.random.default_rng(0).random((8, 9, 3)) * 255).astype(np.uint8))
    return source


def _no_work(*args, **kwargs):
    raise AssertionError("upscaled before the arguments were checked")


def test_a_method_objects_scale_is_checked_before_any_work(tmp_path, monkeypatch):
    import superres.inference as inference
    from superres.inference import prepare_method

    srcnn = get_method("srcnn-955")  # x2, x3, x4 only
    with pytest.raises(InvalidArgumentError):
        prepare_method(srcnn, 2.5)
    monkeypatch.setattr(inference, "upscale_array", _no_work)
    with pytest.raises(InvalidArgumentError):
        superres.upscale(_source(tmp_path), 2.5, srcnn)


def test_auto_precision_gives_default_bf16_where_native(monkeypatch):
    import superres.inference.device as device_policy

    monkeypatch.setattr(device_policy, "native_bf16", lambda device: True)
    assert superres.load_model("default", scale=2, device="cpu").precision == "bf16"
    assert superres.load_model("vdsr", device="cpu").precision == "fp32"


def test_a_method_object_runs_on_its_own_device(monkeypatch):
    import numpy as np

    import superres.inference as inference
    import superres.inference.device as device_policy

    method = superres.load_model("vdsr", device="cpu")
    monkeypatch.setattr(device_policy, "resolve_device", lambda *a, **k: torch.device("meta"))  # "auto" found an accelerator
    seen = {}

    def record(pixels, method, scale, **options):
        seen.update(options)
        return np.zeros((12, 12, 3), np.uint8)

    monkeypatch.setattr(inference, "upscale_array", record)
    superres.upscale(np.zeros((6, 6, 3), np.uint8), 2, method)
    assert seen["device"] == torch.device("cpu")


def test_a_path_upscale_refuses_a_dangling_link_before_any_work(tmp_path, monkeypatch):
    import superres.inference as inference
    from superres.errors import SuperresError

    source = _source(tmp_path)
    (tmp_path / "out.png").symlink_to(tmp_path / "nowhere.png")
    monkeypatch.setattr(inference, "upscale_array", _no_work)
    with pytest.raises(SuperresError, match="exists"):
        superres.upscale(source, 2, "bicubic", output=tmp_path / "out.png")


def test_an_upper_case_extension_is_kept(tmp_path):
    import numpy as np

    from superres.io import output_extension, write_image

    assert output_extension("photo.JPG") == ".JPG"
    source = tmp_path / "photo.PNG"
    write_image(source, np.zeros((6, 7, 3), np.uint8))
    assert superres.upscale(source, 2, "bicubic") == tmp_path / "photo_x2.PNG"


def test_the_device_argument_does_not_concern_a_method_object(monkeypatch):
    import numpy as np

    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    method = superres.load_model("bicubic")
    out = superres.upscale(np.zeros((6, 6, 3), np.uint8), 2, method, device="cuda")  # no GPU here: not asked
    assert out.shape == (12, 12, 3)
    with pytest.raises(InvalidArgumentError, match="no CUDA GPU"):
        superres.upscale(np.zeros((6, 6, 3), np.uint8), 2, "bicubic", device="cuda")
