"""A web page to compare methods' results: ``superres evaluate ... --html DIR``.

``DIR/index.html`` opens from disk in any browser (no server, no network): the mean
PSNR/SSIM of every method on every set and scale, and a viewer that puts any two of
ground truth, input and the methods' outputs side by side on one image, split by a
slider you drag, at any zoom with square pixels, with the per-image scores of the set
below it (click a row to view that image).  The images are PNG files under
``DIR/images/`` (``_truth``, ``_input`` and one folder per method, then set and
scale), exactly the uint8 images the scores were computed from.

The page is built in a hidden folder beside ``DIR`` and renamed into place when
complete, so an interrupted run leaves the previous page (or nothing), never half of
one.  An existing ``DIR`` is replaced only with ``overwrite`` (``--overwrite``), and
only if it holds a page made here and nothing else: a folder with any file the page
did not make is refused, so a replaced page never takes other files with it.
"""

from __future__ import annotations

import html
import os
import re
import secrets
import shutil
import urllib.parse
from pathlib import Path

from superres.errors import InvalidArgumentError
from superres.evaluation.benchmark import ImageOutput, RunResult, distinct_folder, save_uint8
from superres.io.jsontext import dumps_json

__all__ = ["ComparisonPage", "GENERATOR"]

#: in every page's head; a folder whose index.html has it may be replaced by a new page
GENERATOR = '<meta name="generator" content="superres comparison page">'


def _is_our_page(folder: Path) -> bool:
    index = folder / "index.html"
    try:
        with open(index, encoding="utf-8", errors="replace") as fp:
            return GENERATOR in fp.read(4096)
    except OSError:
        return False


def _foreign_files(folder: Path) -> list[str]:
    """Files under a page's folder that a page does not make (anything but index.html and
    images/**/*.png), relative to it: a page that holds them is not replaced."""
    foreign = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        ours = relative.as_posix() == "index.html" or (
            relative.parts[0] == "images" and (path.is_dir() and not path.is_symlink() or path.suffix == ".png")
        )
        if not ours:
            foreign.append(relative.as_posix())
    return foreign


class ComparisonPage:
    """Collects a run's images (``on_output``) and writes the page (``finish``).

    Use as a context manager: leaving it by an exception removes the half-built page::

        with ComparisonPage(Path("page")) as page:
            results = evaluate(methods, sets, scales, on_output=page.add)
            page.finish(results, command="superres evaluate ...")
    """

    def __init__(self, out_dir: Path, *, overwrite: bool = False) -> None:
        out_dir = Path(out_dir)
        if out_dir.exists() or out_dir.is_symlink():
            if not out_dir.is_dir():
                raise InvalidArgumentError(f"--html {str(out_dir)!r} exists and is not a folder")
            if any(out_dir.iterdir()):
                if not _is_our_page(out_dir):
                    raise InvalidArgumentError(
                        f"--html {str(out_dir)!r} is a folder with other files in it; give a new or empty folder"
                    )
                foreign = _foreign_files(out_dir)
                if foreign:
                    shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
                    raise InvalidArgumentError(
                        f"--html {str(out_dir)!r} holds files the page did not make ({shown}); "
                        f"give a new folder, or move them out"
                    )
                if not overwrite:
                    raise InvalidArgumentError(f"--html {str(out_dir)!r} holds an earlier page (use --overwrite)")
        if not out_dir.parent.is_dir():
            raise InvalidArgumentError(f"--html {str(out_dir)!r}: folder {str(out_dir.parent)!r} does not exist")
        self.out_dir = out_dir
        self.staging: Path | None = None
        # (dataset, scale) -> image name -> {"truth", "input", method label -> src}
        self._images: dict[tuple[str, float], dict[str, dict[str, str]]] = {}
        self._method_folders: dict[str, str] = {}
        self._dataset_folders: dict[str, str] = {}

    def __enter__(self) -> ComparisonPage:
        for _ in range(100):
            candidate = self.out_dir.parent / f".{self.out_dir.name}.{secrets.token_hex(6)}.tmp"
            try:
                candidate.mkdir()
            except FileExistsError:
                continue
            except OSError as exc:
                raise InvalidArgumentError(f"--html {str(self.out_dir)!r}: cannot write there ({exc.strerror})") from None
            self.staging = candidate
            return self
        raise InvalidArgumentError(f"--html {str(self.out_dir)!r}: cannot make a temporary folder beside it")

    def __exit__(self, *exc_info: object) -> None:
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging = None

    def _method_folder(self, label: str) -> str:
        """A folder per method label, distinct even where two labels sanitise alike."""
        return distinct_folder(label, self._method_folders, reserved=frozenset({"_truth", "_input"}))

    def add(self, run: RunResult, output: ImageOutput) -> None:
        """Keep one output (the ``on_output`` hook of :func:`superres.evaluation.benchmark.evaluate`)."""
        if self.staging is None:
            raise RuntimeError("ComparisonPage.add outside its `with` block")
        where = Path(distinct_folder(run.dataset, self._dataset_folders)) / f"x{run.scale:g}"
        entry = self._images.setdefault((run.dataset, run.scale), {}).setdefault(output.name, {})
        for key, image in (("_truth", output.hr), ("_input", output.lr)):
            if key not in entry:  # the same for every method of the set and scale
                entry[key] = self._save(Path(key) / where / f"{output.name}.png", image)
        entry[run.method] = self._save(Path(self._method_folder(run.method)) / where / f"{output.name}.png", output.sr)

    def _save(self, relative: Path, image) -> str:
        save_uint8(self.staging / "images" / relative, image)
        # a URL, not a path: "#", "?" and "%" in a file name would cut or garble it
        return "images/" + urllib.parse.quote(relative.as_posix())

    def finish(self, results: list[RunResult], *, command: str) -> Path:
        """Write ``index.html`` and move the page into place; returns its path."""
        if self.staging is None:
            raise RuntimeError("ComparisonPage.finish outside its `with` block")
        data = _page_data(results, self._images, command)
        (self.staging / "index.html").write_text(_render(data), encoding="utf-8")
        self._swap_in()
        return self.out_dir / "index.html"

    def _swap_in(self) -> None:
        old = None
        if self.out_dir.exists():
            old = self.out_dir.parent / f".{self.out_dir.name}.{secrets.token_hex(6)}.old"
            os.replace(self.out_dir, old)
        try:
            os.replace(self.staging, self.out_dir)
        except OSError:
            if old is not None:
                os.replace(old, self.out_dir)
            raise
        self.staging = None
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def _page_data(results: list[RunResult], images: dict, command: str) -> dict:
    methods = list(dict.fromkeys(r.method for r in results))
    groups = []
    for dataset, scale in dict.fromkeys((r.dataset, r.scale) for r in results):
        runs = {r.method: r for r in results if (r.dataset, r.scale) == (dataset, scale)}
        rows = []
        for name, files in images.get((dataset, scale), {}).items():
            scores = {}
            for method, run in runs.items():
                match = next((i for i in run.images if i.name == name), None)
                if match is not None:
                    scores[method] = {"psnr": match.psnr, "ssim": match.ssim}
            rows.append({"name": name, "truth": files["_truth"], "input": files["_input"],
                         "outputs": {m: files[m] for m in runs if m in files}, "scores": scores})
        groups.append({
            "dataset": dataset, "scale": scale, "lr_mode": next(iter(runs.values())).lr_mode,
            "means": {m: {"psnr": r.mean_psnr, "ssim": r.mean_ssim} for m, r in runs.items()},
            "images": rows,
        })
    return {"command": command, "methods": methods, "groups": groups}


def _render(data: dict) -> str:
    # Every "<" as \u003c: still the same JSON, and no "</script>" or "<!--" in a label or
    # path can end or confuse the script element that holds it.
    values = {
        "GENERATOR": GENERATOR,
        "TITLE": html.escape("superres: " + ", ".join(data["methods"])),
        "COMMAND": html.escape(data["command"]),
        "DATA": dumps_json(data).replace("<", "\\u003c"),
    }
    # one pass, so text inserted for one placeholder is never read as another
    return re.sub(r"@(GENERATOR|TITLE|COMMAND|DATA)@", lambda m: values[m.group(1)], _TEMPLATE)


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
@GENERATOR@
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>@TITLE@</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1em 2em; color: #222; }
h1 { font-size: 1.3em; } h2 { font-size: 1.1em; margin-top: 1.5em; }
code { background: #f3f3f3; padding: 0 .3em; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { border: 1px solid #ccc; padding: .2em .6em; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
td.best { font-weight: bold; background: #e8f4e8; }
#images tbody tr { cursor: pointer; } #images tbody tr:hover { background: #f4f4ff; }
#images tr.current { background: #dde8ff; }
.controls { display: flex; flex-wrap: wrap; gap: .5em 1.2em; align-items: center; margin: .5em 0; }
.sides { display: flex; justify-content: space-between; font-weight: bold; margin: .3em 0; }
#stage { position: relative; overflow: auto; max-height: 80vh; border: 1px solid #999; background: #444; }
#canvas { position: relative; touch-action: none; cursor: ew-resize; }
#canvas img { position: absolute; left: 0; top: 0; image-rendering: pixelated; user-select: none; -webkit-user-drag: none; }
#split { position: absolute; top: 0; bottom: 0; width: 2px; margin-left: -1px; background: #fff; box-shadow: 0 0 2px #000; pointer-events: none; }
</style>
</head>
<body>
<h1>@TITLE@</h1>
<p>Made by <code>@COMMAND@</code>. Scores on the Y channel (BT.601, 16-235) rounded to uint8,
<code>ceil(scale)</code> pixels shaved from every border; PSNR in dB (peak 255), SSIM as
<code>ssim_index.m</code>. Best of each column in bold.</p>
<h2>Mean PSNR / SSIM</h2>
<table id="means"></table>
<h2>Compare</h2>
<div class="controls">
<label>set <select id="group"></select></label>
<label>image <select id="image"></select></label>
<button id="prev" title="previous image (,)">&#9664;</button><button id="next" title="next image (.)">&#9654;</button>
<label>left <select id="left"></select></label>
<label>right <select id="right"></select></label>
<label>zoom <select id="zoom"><option value="fit">fit</option><option>1</option><option>2</option><option>4</option><option>8</option></select></label>
</div>
<div class="sides"><span id="left-label"></span><span id="right-label"></span></div>
<div id="stage"><div id="canvas"><img id="left-img" alt=""><img id="right-img" alt=""><div id="split"></div></div></div>
<p>Drag on the image to move the split. The input is shown enlarged with square pixels.</p>
<h2>Per image</h2>
<table id="images"></table>
<script id="data" type="application/json">@DATA@</script>
<script>
"use strict";
const data = JSON.parse(document.getElementById("data").textContent);
const $ = (id) => document.getElementById(id);
const state = { group: 0, image: 0, split: 0.5, left: "_input", right: null };

// Number(): a perfect score's PSNR comes as the string "Infinity" (JSON has no inf)
function fmt(score) { return score ? Number(score.psnr).toFixed(2) + " / " + Number(score.ssim).toFixed(4) : ""; }
function groupName(g) { return g.dataset + " x" + g.scale + (g.lr_mode === "rgb" ? "" : " (" + g.lr_mode + ")"); }
function sideName(key) { return key === "_truth" ? "ground truth" : key === "_input" ? "input (LR)" : key; }
function cell(row, text, tag) { const c = document.createElement(tag || "td"); c.textContent = text; row.appendChild(c); return c; }
function option(select, value, text) { const o = document.createElement("option"); o.value = value; o.textContent = text; select.appendChild(o); }

function bestOf(scores) {
  let best = null;
  for (const m in scores) if (scores[m] && (best === null || Number(scores[m].psnr) > Number(scores[best].psnr))) best = m;
  return best;
}

function meansTable() {
  const table = $("means"), head = table.insertRow();
  cell(head, "method", "th");
  data.groups.forEach((g) => cell(head, groupName(g), "th"));
  const best = data.groups.map((g) => bestOf(g.means));
  data.methods.forEach((m) => {
    const row = table.insertRow();
    cell(row, m);
    data.groups.forEach((g, i) => { const c = cell(row, fmt(g.means[m])); if (best[i] === m) c.className = "best"; });
  });
}

function imagesTable() {
  const g = data.groups[state.group], table = $("images");
  table.textContent = "";
  const head = table.createTHead().insertRow();
  cell(head, "image", "th");
  const methods = data.methods.filter((m) => m in g.means);
  methods.forEach((m) => cell(head, m, "th"));
  const body = table.createTBody();
  g.images.forEach((im, i) => {
    const row = body.insertRow(), best = bestOf(im.scores);
    cell(row, im.name);
    methods.forEach((m) => { const c = cell(row, fmt(im.scores[m])); if (best === m) c.className = "best"; });
    if (i === state.image) row.className = "current";
    row.addEventListener("click", () => { state.image = i; show(); });
  });
}

function fillSides() {
  const g = data.groups[state.group], keys = ["_truth", "_input"].concat(data.methods.filter((m) => m in g.means));
  if (!keys.includes(state.right)) state.right = keys[keys.length - 1];
  if (!keys.includes(state.left)) state.left = "_input";
  for (const id of ["left", "right"]) {
    const select = $(id);
    select.textContent = "";
    keys.forEach((k) => option(select, k, sideName(k)));
    select.value = state[id];
  }
}

function fillImages() {
  const select = $("image");
  select.textContent = "";
  data.groups[state.group].images.forEach((im, i) => option(select, i, im.name));
}

function source(im, key) { return key === "_truth" ? im.truth : key === "_input" ? im.input : im.outputs[key]; }
function label(im, key) { const s = im.scores[key]; return sideName(key) + (s ? "  " + fmt(s) : ""); }

function show() {
  const g = data.groups[state.group];
  state.image = Math.max(0, Math.min(state.image, g.images.length - 1));
  const im = g.images[state.image];
  $("image").value = state.image;
  // Every side is drawn at the truth's size (the input enlarged to it), so the truth's
  // size sets the layout.
  $("left-img").src = source(im, state.left);
  $("right-img").src = source(im, state.right);
  $("left-label").textContent = "\\u25c0 " + label(im, state.left);
  $("right-label").textContent = label(im, state.right) + " \\u25b6";
  const probe = new Image();
  probe.onload = () => layoutWith(probe.naturalWidth, probe.naturalHeight);
  probe.src = im.truth;
  imagesTable();
}

function layoutWith(w, h) {
  const zoomChoice = $("zoom").value;
  const zoom = zoomChoice === "fit" ? Math.min(1, ($("stage").clientWidth - 2) / w) : Number(zoomChoice);
  const width = Math.round(w * zoom), height = Math.round(h * zoom), canvas = $("canvas");
  canvas.style.width = width + "px";
  canvas.style.height = height + "px";
  for (const id of ["left-img", "right-img"]) { $(id).style.width = width + "px"; $(id).style.height = height + "px"; }
  const x = Math.round(state.split * width);
  $("right-img").style.clipPath = "inset(0 0 0 " + x + "px)";
  $("split").style.left = x + "px";
  state.size = [w, h];
}

function relayout() { if (state.size) layoutWith(state.size[0], state.size[1]); }

function selectGroup(i) { state.group = i; state.image = 0; fillImages(); fillSides(); show(); }

function init() {
  data.groups.forEach((g, i) => option($("group"), i, groupName(g)));
  meansTable();
  $("group").addEventListener("change", (e) => selectGroup(Number(e.target.value)));
  $("image").addEventListener("change", (e) => { state.image = Number(e.target.value); show(); });
  $("left").addEventListener("change", (e) => { state.left = e.target.value; show(); });
  $("right").addEventListener("change", (e) => { state.right = e.target.value; show(); });
  $("zoom").addEventListener("change", relayout);
  $("prev").addEventListener("click", () => { state.image -= 1; show(); });
  $("next").addEventListener("click", () => { state.image += 1; show(); });
  document.addEventListener("keydown", (e) => {
    if (e.target.tagName === "SELECT") return;
    if (e.key === ",") { state.image -= 1; show(); }
    if (e.key === ".") { state.image += 1; show(); }
  });
  const canvas = $("canvas");
  const drag = (e) => {
    const box = canvas.getBoundingClientRect();
    state.split = Math.max(0, Math.min(1, (e.clientX - box.left) / box.width));
    relayout();
  };
  canvas.addEventListener("pointerdown", (e) => { canvas.setPointerCapture(e.pointerId); drag(e); });
  canvas.addEventListener("pointermove", (e) => { if (e.buttons & 1) drag(e); });
  window.addEventListener("resize", relayout);
  if (data.groups.length) selectGroup(0);
}

init();
</script>
</body>
</html>
"""
