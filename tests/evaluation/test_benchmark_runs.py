"""``superres.evaluation.benchmark``: the JSON of a run, gray+alpha images, saving twice to one folder."""

from __future__ import annotations

import numpy as np
from PIL import Image

from superres.evaluation.benchmark import ImageResult, RunResult, evaluate


def test_to_dict_names_the_self_ensemble_only_when_there_is_one():
    run = RunResult("m", "d", 2.0, "rgb", [ImageResult("a", 30.0, 0.75, 1.0), ImageResult("b", 32.0, 0.25, 3.0)])
    plain = run.to_dict()
    assert set(plain) == {"method", "dataset", "scale", "lr_mode", "precision", "images", "mean"}
    assert plain["mean"] == {"psnr": 31.0, "ssim": 0.5, "seconds": 2.0}
    run.self_ensemble = 8
    assert run.to_dict()["self_ensemble"] == 8


def test_a_gray_image_with_alpha_scores_as_the_gray_image(tmp_path):
    gray = np.random.default_rng(0).integers(0, 256, (24, 26), dtype=np.uint8)
    alpha = np.random.default_rng(1).integers(0, 256, (24, 26), dtype=np.uint8)
    for name, image in (("l", Image.fromarray(gray)), ("la", Image.fromarray(np.dstack([gray, alpha]), "LA"))):
        (tmp_path / name).mkdir()
        image.save(tmp_path / name / "im.png")
    (plain,) = evaluate(["bicubic"], [str(tmp_path / "l")], [2])
    (with_alpha,) = evaluate(["bicubic"], [str(tmp_path / "la")], [2])
    assert with_alpha.images[0].psnr == plain.images[0].psnr


def test_saving_into_the_same_folder_twice_replaces_the_images(tmp_path):
    (tmp_path / "set").mkdir()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (24, 26, 3), dtype=np.uint8)).save(tmp_path / "set" / "im.png")
    for _ in range(2):
        evaluate(["bicubic"], [str(tmp_path / "set")], [2], save_dir=tmp_path / "out")
    assert [p.name for p in (tmp_path / "out").rglob("*.png")] == ["im.png"]


def test_an_uncropped_hr_in_a_scale_folder_scores_as_in_a_plain_folder(tmp_path):
    # A set of one's own laid out as benchmark/<Set>/x3/img_NNN_HR.png may hold any size:
    # it is modcropped as a plain folder's images are, not taken as already cropped.
    pixels = np.random.default_rng(2).integers(0, 256, (29, 32, 3), dtype=np.uint8)  # 29 = 3 * 9 + 2
    (tmp_path / "plain").mkdir()
    Image.fromarray(pixels).save(tmp_path / "plain" / "img_001_HR.png")
    folder = tmp_path / "data" / "benchmark" / "Mine" / "x3"
    folder.mkdir(parents=True)
    Image.fromarray(pixels).save(folder / "img_001_HR.png")
    (plain,) = evaluate(["bicubic"], [str(tmp_path / "plain")], [3])
    (laid_out,) = evaluate(["bicubic"], ["Mine"], [3], data_dir=tmp_path / "data")
    assert laid_out.images[0].psnr == plain.images[0].psnr and np.isfinite(plain.images[0].psnr)
