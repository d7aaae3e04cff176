from __future__ import annotations

import numpy as np
import pytest
from PIL import Image


@pytest.fixture
def synthetic_images(tmp_path):
    """A few smooth-plus-edges RGB images (made here, not taken from any data set)."""
    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:72, 0:80]
    for i in range(4):
        base = 127 + 80 * np.sin(xx / (5 + i) + i) * np.cos(yy / (7 + i))
        edges = 60 * ((xx + 2 * yy + 10 * i) % 29 < 14)
        rgb = np.stack([base + edges, base * 0.8 + 20, 255 - base], axis=-1) + rng.normal(0, 3, (72, 80, 1))
        Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(folder / f"syn{i}.png")
    return folder


def write_recipe(path, images, *, steps, scales=(2,), architecture="litesr", args="{ scales = [2], channels = 8, blocks = 1 }",
                 input_mode="lr", patch=12, batch=4, val_every=10_000, checkpoint_every=5, val_dataset=None, lr=1e-3, extra=""):
    val = val_dataset if val_dataset is not None else str(images)
    path.write_text(f"""
name = "test-run"
method = "litesr-test"
[model]
architecture = "{architecture}"
args = {args}
input = "{input_mode}"
[data]
train = ["{images}"]
scales = {list(scales)}
patch_size = {patch}
[optim]
name = "adam"
lr = {lr}
[schedule]
name = "cosine"
[train]
steps = {steps}
batch_size = {batch}
val_every = {val_every}
val_dataset = "{val}"
checkpoint_every = {checkpoint_every}
log_every = 5
threads = 1
{extra}
""")
    return path
