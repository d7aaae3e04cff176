"""A learned method run with weights of one's own: ``-m NAME=FILE.safetensors``."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from superres.cli.main import main
from superres.weights.store import load_weights, save_weights


@pytest.fixture()
def images(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(3)
    for i in range(2):
        smooth = rng.integers(0, 256, (9, 11, 3)).astype(np.uint8)
        Image.fromarray(smooth).resize((44, 36), Image.BICUBIC).save(folder / f"im{i}.png")
    return folder


def _copy_of_shipped(tmp_path, name: str, *, perturb: bool = False):
    entry = load_weights(name)
    tensors = {k: v.clone() for k, v in entry.tensors.items()}
    if perturb:  # another network of the same shape: must score differently
        generator = torch.Generator().manual_seed(0)
        tensors = {k: v + 0.05 * torch.randn(v.shape, generator=generator) if v.is_floating_point() else v
                   for k, v in tensors.items()}
    return save_weights(tmp_path / f"{name}-{'other' if perturb else 'copy'}.safetensors", tensors, dict(entry.card))


def test_evaluate_scores_a_weights_file_beside_the_shipped_one(tmp_path, images, capsys):
    copy = _copy_of_shipped(tmp_path, "scn.291-x2")
    other = _copy_of_shipped(tmp_path, "scn.291-x2", perturb=True)
    methods = f"scn,scn={copy},scn={other}"
    assert main(["evaluate", "-m", methods, "-d", str(images), "-s", "2", "-f", "json"]) == 0
    results = json.loads(capsys.readouterr().out)["results"]
    assert [r["method"] for r in results] == ["scn", f"scn={copy}", f"scn={other}"]
    shipped, same, changed = (r["mean"]["psnr"] for r in results)
    assert same == shipped  # the same weights through the file: the same numbers, exactly
    assert abs(changed - shipped) > 1e-3


def test_upscale_with_a_weights_file_runs_that_file(tmp_path, images):
    copy = _copy_of_shipped(tmp_path, "scn.291-x2")
    other = _copy_of_shipped(tmp_path, "scn.291-x2", perturb=True)
    source = images / "im0.png"
    for spec, out in (("scn", "a.png"), (f"scn={copy}", "b.png"), (f"scn={other}", "c.png")):
        assert main(["upscale", str(source), "-s", "2", "-m", spec, "-o", str(tmp_path / out), "-q"]) == 0
    a, b, c = (np.asarray(Image.open(tmp_path / f)) for f in ("a.png", "b.png", "c.png"))
    assert a.shape == (72, 88, 3) and np.array_equal(a, b)  # the same weights through the file
    assert not np.array_equal(a, c)  # and the file's own weights, not the shipped ones


@pytest.mark.parametrize(
    "spec,extra,needle",
    [
        ("bicubic={scn}", [], "takes no weights file"),
        ("vdsr={scn}", [], "holds 'scn' weights, not 'vdsr'"),
        ("default={scn}", [], "name the method"),
        ("scn=", [], "name a weights file"),
        ("scn={missing}", [], "does not exist"),
        ("scn={image}", [], "is not a weights file"),
    ],
)
def test_weights_file_errors_are_one_line(tmp_path, images, capsys, spec, extra, needle):
    scn = _copy_of_shipped(tmp_path, "scn.291-x2")
    method = spec.format(scn=scn, missing=tmp_path / "nope.safetensors", image=images / "im0.png")
    assert main(["evaluate", "-m", method, "-d", str(images), "-s", "2", *extra]) == 1
    err = capsys.readouterr().err.strip()
    assert needle in err and "\n" not in err and err.startswith("superres: error:")


def test_get_method_takes_the_file_in_the_name_or_the_option_not_both(tmp_path):
    from superres.errors import InvalidArgumentError
    from superres.methods.registry import get_method

    copy = _copy_of_shipped(tmp_path, "scn.291-x2")
    assert get_method(f"scn={copy}").weights == get_method("scn", weights=str(copy)).weights == {2.0: str(copy)}
    with pytest.raises(InvalidArgumentError, match="names its weights file already"):
        get_method(f"scn={copy}", weights=str(copy))


def test_compare_labels_a_weights_file_by_its_run_folder(tmp_path, images, capsys):
    run = tmp_path / "my-run"
    run.mkdir()
    copy = _copy_of_shipped(run, "scn.291-x2")
    other = _copy_of_shipped(run, "scn.291-x2", perturb=True)
    out = tmp_path / "grid.png"
    assert main(["compare", str(images / "im0.png"), "-m", f"scn,scn={copy},scn={other}", "-s", "2", "-o", str(out)]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[1:4]]
    assert rows[0][0] == "scn" and rows[1][:2] == ["scn", "(my-run)"]
    assert rows[0][1:] == rows[1][2:]  # the same weights: the same PSNR and SSIM
    assert rows[0][1:] != rows[2][2:]  # another file's weights: other scores
    assert out.is_file()


def test_write_card_scores_a_candidate_into_its_own_card_for_compare(tmp_path, images, capsys, monkeypatch):
    from superres.weights import cards as cards_module
    from superres.weights.compare import main as compare_main
    from superres.weights.store import read_card

    # were a run of NAME=FILE routed to the shipped cards, it would fail here, not rewrite them
    (tmp_path / "shipped").mkdir()
    monkeypatch.setattr(cards_module, "SHIPPED_DIR", tmp_path / "shipped")
    before = _copy_of_shipped(tmp_path, "scn.291-x2")
    after = _copy_of_shipped(tmp_path, "scn.291-x2", perturb=True)
    for candidate in (before, after):
        card = read_card(candidate)
        card["evaluation"] = {}  # as a fresh training run's card
        (candidate.with_suffix(".json")).write_text(json.dumps(card))
    argv = ["evaluate", "-m", f"scn={before},scn={after}", "-d", str(images), "-s", "2", "--write-card", "-f", "json"]
    assert main(argv) == 0
    scores = {r["method"]: r["mean"]["psnr"] for r in json.loads(capsys.readouterr().out)["results"]}
    for candidate in (before, after):
        (result,) = read_card(candidate)["evaluation"]["results"]
        assert result["mean"]["psnr"] == scores[f"scn={candidate}"]
        assert result["command"] == "superres " + " ".join(a for a in argv if a != "--write-card")
    assert compare_main([str(before), str(after)]) == 0
    assert "0 of 1 cells gained, 1 lost" in capsys.readouterr().out  # the perturbed copy scores lower
    # an evaluate report is not a card: said so, not "no shared cell"
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"results": []}))
    assert compare_main([str(before), str(report)]) == 1
    assert "not a model card with an evaluation" in capsys.readouterr().err
