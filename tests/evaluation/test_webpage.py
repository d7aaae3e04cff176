"""``superres evaluate --html DIR``: the comparison page holds exactly the scored images and
scores, replaces only a page of its own, leaves nothing half-built, and its script runs."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import urllib.parse
from pathlib import Path

import numpy as np
import pytest
import torch

from superres.cli.main import main
from superres.degradation.pipelines import bicubic_downscale, modcrop_to_scale
from superres.evaluation.benchmark import evaluate, load_uint8
from superres.evaluation.metrics import quantize_uint8
from superres.evaluation.webpage import GENERATOR
from superres.io import write_image
from superres.methods.registry import get_method


def _photos(folder: Path) -> Path:
    """Three small smooth HR images (bicubic beats nearest on them), sizes not multiples
    of the scale (modcrop does something)."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(3)
    for i, (h, w) in enumerate([(25, 31), (30, 22), (19, 19)]):
        y, x = np.mgrid[0:h, 0:w] / 6.0
        phase = rng.random(3) * 6
        waves = np.stack([np.sin(x + p) * np.cos(0.7 * y - p) for p in phase], axis=-1)
        write_image(folder / f"p{i}.png", np.round(127.5 + 100 * waves).astype(np.uint8))
    return folder


def _page_data(page: Path) -> dict:
    text = (page / "index.html").read_text(encoding="utf-8")
    assert GENERATOR in text
    payload = re.search(r'<script id="data" type="application/json">(.*?)</script>', text, re.S).group(1)
    def refuse(name):  # as the page's JSON.parse: no Infinity or NaN
        raise ValueError(f"{name} is not JSON")
    return json.loads(payload, parse_constant=refuse)


def _file(page: Path, src: str) -> Path:
    """The file a page's relative URL names."""
    return page / urllib.parse.unquote(src)


def _pixels(path: Path) -> torch.Tensor:
    return load_uint8(path)


def test_page_holds_the_scored_images_and_scores(tmp_path):
    photos = _photos(tmp_path / "my photos")
    page = tmp_path / "page"
    argv = ["evaluate", "-m", "bicubic,nearest", "-d", str(photos), "-s", "2,3", "--html", str(page), "-f", "json"]
    assert main(argv) == 0
    data = _page_data(page)
    # the folder has a space: the command shown reruns only if quoted as a shell reads it
    assert data["command"] == "superres " + shlex.join(argv)
    assert data["methods"] == ["bicubic", "nearest"]
    assert [(g["dataset"], g["scale"]) for g in data["groups"]] == [(str(photos), 2.0), (str(photos), 3.0)]

    expected = evaluate(["bicubic", "nearest"], [str(photos)], [2.0, 3.0])
    for run in expected:
        group = next(g for g in data["groups"] if g["scale"] == run.scale)
        assert group["means"][run.method] == {"psnr": run.mean_psnr, "ssim": run.mean_ssim}
        for image in run.images:
            row = next(r for r in group["images"] if r["name"] == image.name)
            assert row["scores"][run.method] == {"psnr": image.psnr, "ssim": image.ssim}

    # The files are the images as scored: the modcropped HR, the LR given to the methods,
    # and each output rounded as the metrics round it.
    for group in data["groups"]:
        scale = group["scale"]
        for row in group["images"]:
            hr = modcrop_to_scale(load_uint8(photos / f"{row['name']}.png"), scale)
            lr = bicubic_downscale(hr, scale)
            assert torch.equal(_pixels(_file(page, row["truth"])), hr)
            assert torch.equal(_pixels(_file(page, row["input"])), lr)
            for method, src in row["outputs"].items():
                with torch.inference_mode():
                    sr = get_method(method).upscale(lr.float() / 255, scale)
                assert torch.equal(_pixels(_file(page, src)), quantize_uint8(sr))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left


def test_a_page_is_replaced_whole_and_other_folders_are_refused(tmp_path, capsys):
    photos = _photos(tmp_path / "photos")
    page = tmp_path / "page"
    assert main(["evaluate", "-m", "bicubic,nearest", "-d", str(photos), "-s", "2", "--html", str(page)]) == 0
    assert (page / "images" / "nearest").is_dir()
    before = (page / "index.html").read_bytes()
    assert main(["evaluate", "-m", "bicubic", "-d", str(photos), "-s", "2", "--html", str(page)]) == 1
    assert "earlier page (use --overwrite)" in capsys.readouterr().err
    assert (page / "index.html").read_bytes() == before
    assert main(["evaluate", "-m", "bicubic", "-d", str(photos), "-s", "2", "--html", str(page), "--overwrite"]) == 0
    assert _page_data(page)["methods"] == ["bicubic"] and not (page / "images" / "nearest").exists()
    capsys.readouterr()

    # a page folder with files of the user's in it is never replaced, --overwrite or not
    (page / "NOTES.txt").write_text("keep me")
    (page / "images" / "bicubic" / "crop.jpg").write_bytes(b"mine")
    before = (page / "index.html").read_bytes()
    for extra in ([], ["--overwrite"]):
        assert main(["evaluate", "-m", "nearest", "-d", str(photos), "-s", "2", "--html", str(page)] + extra) == 1
        err = capsys.readouterr().err
        assert "NOTES.txt" in err and "images/bicubic/crop.jpg" in err and err.count("\n") == 1
    assert (page / "NOTES.txt").read_text() == "keep me" and (page / "images" / "bicubic" / "crop.jpg").exists()
    assert (page / "index.html").read_bytes() == before

    other = tmp_path / "notes"
    other.mkdir()
    (other / "mine.txt").write_text("keep me")
    assert main(["evaluate", "-d", str(photos), "-s", "2", "--html", str(other)]) == 1
    assert "other files" in capsys.readouterr().err
    assert [p.name for p in other.iterdir()] == ["mine.txt"]

    a_file = tmp_path / "page.html"
    a_file.write_text("x")
    assert main(["evaluate", "-d", str(photos), "-s", "2", "--html", str(a_file)]) == 1
    assert "not a folder" in capsys.readouterr().err and a_file.read_text() == "x"


def test_a_failed_run_leaves_the_old_page_and_no_staging(tmp_path, capsys):
    photos = _photos(tmp_path / "photos")
    page = tmp_path / "page"
    assert main(["evaluate", "-m", "bicubic", "-d", str(photos), "-s", "2", "--html", str(page)]) == 0
    before = (page / "index.html").read_bytes()
    # nearest scores and writes p0..p2, then the last image (too small for SSIM's window after
    # the border is shaved) fails the run with a half-built page staged beside the old one
    write_image(photos / "z.png", np.zeros((8, 8, 3), np.uint8))
    assert main(["evaluate", "-m", "nearest", "-d", str(photos), "-s", "2", "--html", str(page),
                 "--overwrite"]) == 1
    assert "SSIM needs images of at least 11x11" in capsys.readouterr().err
    assert (page / "index.html").read_bytes() == before and not (page / "images" / "nearest").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page", "photos"]


def test_markup_in_labels_stays_data(tmp_path):
    from superres.evaluation.webpage import _render

    data = {"command": "superres evaluate -d '</script><!--' @DATA@", "methods": ["@TITLE@"], "groups": []}
    text = _render(data)
    assert text.count("</script>") == 2 and "<!--" not in text
    payload = re.search(r'<script id="data" type="application/json">(.*?)</script>', text, re.S).group(1)
    assert json.loads(payload) == data


def test_method_labels_become_distinct_safe_folders(tmp_path):
    from superres.evaluation.webpage import ComparisonPage

    page = ComparisonPage(tmp_path / "page")
    assert page._method_folder("vdsr=../runs/a/best.safetensors") == "vdsr_runs_a_best.safetensors"
    assert page._method_folder("vdsr=runs_a/best.safetensors") == "vdsr_runs_a_best.safetensors-2"
    assert page._method_folder("default (litesr-small)") == "default_litesr-small"
    assert page._method_folder("_truth") == "truth"


def test_sets_whose_folder_names_sanitise_alike_keep_their_own_images(tmp_path):
    photos = _photos(tmp_path / "sets" / "a" / "b")
    shutil.copytree(photos, tmp_path / "sets" / "a_b")
    (tmp_path / "sets" / "a_b" / "p0.png").unlink()  # the second set is smaller
    page = tmp_path / "page"
    sets = f"{tmp_path / 'sets' / 'a' / 'b'},{tmp_path / 'sets' / 'a_b'}"
    assert main(["evaluate", "-m", "bicubic", "-d", sets, "-s", "2", "--html", str(page), "-f", "json"]) == 0
    folders = sorted(p.name for p in (page / "images" / "bicubic").iterdir())
    assert len(folders) == 2 and folders[1] == folders[0] + "-2"
    counts = [len(list((page / "images" / "bicubic" / f).rglob("*.png"))) for f in folders]
    assert counts == [3, 2]


_DOM_STUB = r"""
class El {
  constructor(tag, id) { this.tagName = (tag || "div").toUpperCase(); this.id = id; this.children = [];
    this.style = {}; this.listeners = {}; this.text = ""; this.value = ""; this.className = ""; this.clientWidth = 802; }
  appendChild(c) { this.children.push(c); return c; }
  set textContent(t) { this.text = String(t); this.children = []; }
  get textContent() { return this.text + this.children.map((c) => c.textContent).join(""); }
  insertRow() { return this.appendChild(new El("tr")); }
  createTHead() { return this.appendChild(new El("thead")); }
  createTBody() { return this.appendChild(new El("tbody")); }
  addEventListener(type, f) { (this.listeners[type] = this.listeners[type] || []).push(f); }
  fire(type, extra) { (this.listeners[type] || []).forEach((f) => f(Object.assign({ target: this }, extra || {}))); }
  getBoundingClientRect() { return { left: 0, top: 0, width: parseFloat(this.style.width) }; }
  setPointerCapture() {}
}
const fs = require("fs");
const html = fs.readFileSync(process.argv[2], "utf8");
const scripts = [...html.matchAll(/<script(?: [^>]*)?>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
const sizes = JSON.parse(process.argv[3]);
const elements = {};
global.document = {
  getElementById: (id) => elements[id] || (elements[id] = new El("div", id)),
  createElement: (tag) => new El(tag),
  addEventListener: () => {},
};
document.getElementById("data").text = scripts[0];
for (const id of ["group", "image", "left", "right", "zoom"]) elements[id] = new El("select", id);
elements.zoom.value = "fit";
global.window = { addEventListener: () => {} };
global.Image = class { set src(s) { [this.naturalWidth, this.naturalHeight] = sizes[s]; this.onload(); } };
new Function(scripts[1])();
const $ = (id) => elements[id];
const rows = (table) => table.children.filter((c) => c.tagName === "TR");
const out = {};
out.means = rows($("means")).map((r) => r.children.map((c) => [c.textContent, c.className]));
const body = $("images").children.find((c) => c.tagName === "TBODY");
out.image_rows = rows(body).length;
rows(body)[1].fire("click");
out.after_click = [$("left-img").src, $("right-img").src, $("image").value];
$("right").value = "_truth"; $("right").fire("change");
out.right_truth = $("right-img").src;
$("zoom").value = "2"; $("zoom").fire("change");
out.canvas_width = $("canvas").style.width;
$("canvas").fire("pointerdown", { clientX: parseFloat($("canvas").style.width) / 4, pointerId: 1 });
out.clip = $("right-img").style.clipPath;
$("group").value = "1"; $("group").fire("change");
out.group1 = [$("left-img").src, $("right-img").src];
console.log(JSON.stringify(out));
"""


def test_a_perfect_score_leaves_the_page_data_json(tmp_path):
    photos = _photos(tmp_path / "photos")
    write_image(photos / "flat.png", np.full((20, 24, 3), 90, np.uint8))  # bicubic gives it back exactly
    page = tmp_path / "page"
    assert main(["evaluate", "-m", "bicubic", "-d", str(photos), "-s", "2", "--html", str(page)]) == 0
    group = _page_data(page)["groups"][0]
    flat = next(row for row in group["images"] if row["name"].startswith("flat"))
    assert flat["scores"]["bicubic"]["psnr"] == "Infinity"
    assert group["means"]["bicubic"]["psnr"] == "Infinity"


def test_image_urls_survive_any_file_name(tmp_path):
    # "#" starts a URL's fragment, "?" its query, "%" an escape: the names are quoted.
    photos = tmp_path / "photos"
    photos.mkdir()
    pixels = np.random.default_rng(5).integers(0, 256, (20, 22, 3), dtype=np.uint8)
    write_image(photos / "a#1 50%?.png", pixels)
    page = tmp_path / "page"
    assert main(["evaluate", "-m", "bicubic", "-d", str(photos), "-s", "2", "--html", str(page)]) == 0
    (row,) = _page_data(page)["groups"][0]["images"]
    for src in [row["truth"], row["input"], row["outputs"]["bicubic"]]:
        assert not set("#? ") & set(src) and src.endswith("a%231%2050%25%3F.png"), src
        assert _file(page, src).is_file()
    assert torch.equal(_pixels(_file(page, row["truth"])), modcrop_to_scale(load_uint8(photos / "a#1 50%?.png"), 2))


def test_the_page_script_runs(tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    photos = _photos(tmp_path / "photos")
    page = tmp_path / "page"
    assert main(["evaluate", "-m", "nearest,bicubic", "-d", str(photos), "-s", "2,3", "--html", str(page)]) == 0
    data = _page_data(page)
    sizes = {}
    for group in data["groups"]:
        for row in group["images"]:
            for src in [row["truth"], row["input"], *row["outputs"].values()]:
                h, w = load_uint8(_file(page, src)).shape[-2:]
                sizes[src] = [w, h]
    stub = tmp_path / "stub.js"
    stub.write_text(_DOM_STUB)
    done = subprocess.run([node, str(stub), str(page / "index.html"), json.dumps(sizes)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)

    # Means: a header and one row per method; bicubic beats nearest in both columns.
    assert [row[0][0] for row in out["means"]] == ["method", "nearest", "bicubic"]
    assert [cls for _, cls in out["means"][2][1:]] == ["best", "best"]
    assert [cls for _, cls in out["means"][1][1:]] == ["", ""]
    first = data["groups"][0]
    mean = first["means"]["bicubic"]
    assert out["means"][2][1][0] == f"{mean['psnr']:.2f} / {mean['ssim']:.4f}"

    # Clicking the second image row shows it: input on the left, the last method on the right.
    second = first["images"][1]
    assert out["image_rows"] == len(first["images"])
    assert out["after_click"] == [second["input"], second["outputs"]["bicubic"], 1]
    assert out["right_truth"] == second["truth"]
    w = sizes[second["truth"]][0]
    assert out["canvas_width"] == f"{2 * w}px"  # zoom 2 of the truth's width
    assert out["clip"] == f"inset(0 0 0 {round(0.25 * 2 * w)}px)"  # dragged to a quarter
    other = data["groups"][1]["images"][0]
    assert out["group1"] == [other["input"], other["truth"]]  # the sides stay as chosen


def test_page_data_pairs_every_score_with_its_image_method_and_group():
    """Each group carries its own runs' LR mode and means; each image row the scores of
    that image (found by name, whatever the order of the run's images), for the methods
    that scored it, and only their outputs."""
    from superres.evaluation.benchmark import ImageResult, RunResult
    from superres.evaluation.webpage import _page_data

    def run(method, dataset, scale, lr_mode, scores):
        return RunResult(method, dataset, scale, lr_mode, [ImageResult(n, p, s, 0.1) for n, p, s in scores])

    results = [
        run("bicubic", "Set5", 2.0, "rgb", [("a", 30.0, 0.875), ("b", 34.0, 0.75)]),
        run("vdsr", "Set5", 2.0, "rgb", [("b", 36.0, 0.9375), ("a", 31.0, 0.5)]),  # other order
        run("vdsr", "Set14", 3.0, "y-float", [("c", 27.0, 0.625)]),
    ]
    images = {
        ("Set5", 2.0): {
            name: {"_truth": f"t/{name}", "_input": f"i/{name}", "bicubic": f"bi/{name}", "vdsr": f"vd/{name}"}
            for name in ("a", "b")
        },
        ("Set14", 3.0): {"c": {"_truth": "t/c", "_input": "i/c", "vdsr": "vd/c"}},
    }
    data = _page_data(results, images, "cmd")
    assert data["command"] == "cmd" and data["methods"] == ["bicubic", "vdsr"]
    first, second = data["groups"]
    assert (first["dataset"], first["scale"], first["lr_mode"]) == ("Set5", 2.0, "rgb")
    assert (second["dataset"], second["scale"], second["lr_mode"]) == ("Set14", 3.0, "y-float")
    assert first["means"] == {"bicubic": {"psnr": 32.0, "ssim": 0.8125}, "vdsr": {"psnr": 33.5, "ssim": 0.71875}}
    assert second["means"] == {"vdsr": {"psnr": 27.0, "ssim": 0.625}}
    assert first["images"] == [
        {"name": "a", "truth": "t/a", "input": "i/a", "outputs": {"bicubic": "bi/a", "vdsr": "vd/a"},
         "scores": {"bicubic": {"psnr": 30.0, "ssim": 0.875}, "vdsr": {"psnr": 31.0, "ssim": 0.5}}},
        {"name": "b", "truth": "t/b", "input": "i/b", "outputs": {"bicubic": "bi/b", "vdsr": "vd/b"},
         "scores": {"bicubic": {"psnr": 34.0, "ssim": 0.75}, "vdsr": {"psnr": 36.0, "ssim": 0.9375}}},
    ]
    assert second["images"] == [{"name": "c", "truth": "t/c", "input": "i/c", "outputs": {"vdsr": "vd/c"},
                                 "scores": {"vdsr": {"psnr": 27.0, "ssim": 0.625}}}]


def test_y_float_page_names_its_mode(tmp_path):
    """``--lr-mode y-float``: the page's group says so (its title reads "x2 (y-float)")."""
    photos = _photos(tmp_path / "photos")
    page = tmp_path / "page"
    argv = ["evaluate", "-m", "bicubic", "-d", str(photos), "-s", "2", "--lr-mode", "y-float", "--html", str(page)]
    assert main(argv) == 0
    (group,) = _page_data(page)["groups"]
    assert group["lr_mode"] == "y-float"
    (expected,) = evaluate(["bicubic"], [str(photos)], [2.0], lr_mode="y-float")
    assert group["means"]["bicubic"] == {"psnr": expected.mean_psnr, "ssim": expected.mean_ssim}


def test_only_index_html_and_pngs_under_images_are_the_pages_own(tmp_path):
    from superres.errors import InvalidArgumentError
    from superres.evaluation.webpage import ComparisonPage

    page = tmp_path / "page"
    (page / "images" / "bicubic").mkdir(parents=True)
    (page / "index.html").write_text(f"<html><head>{GENERATOR}</head></html>")
    (page / "images" / "bicubic" / "a.png").write_bytes(b"png")
    ComparisonPage(page, overwrite=True)  # a page and nothing else: it may be replaced
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    foreign = {
        "photo.png": lambda p: p.write_bytes(b"mine"),  # a PNG, but not under images/
        "images/bicubic/index.html": lambda p: p.write_text("mine"),  # an index.html, not the page's
        "images/linked": lambda p: p.symlink_to(elsewhere, target_is_directory=True),  # a link, not a folder
    }
    for name, make in foreign.items():
        make(page / name)
        with pytest.raises(InvalidArgumentError, match=re.escape(name)):
            ComparisonPage(page, overwrite=True)
        (page / name).unlink()
