"""``superres.evaluation.benchmark``: a 16-bit HR is refused (the protocol is 8-bit), and the
``y-float`` LR is MATLAB bicubic of the uint8 Y computed in float64, then stored as float32."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from superres.errors import InvalidArgumentError
from superres.evaluation.benchmark import evaluate
from superres.io import write_image
from superres.ops.color import rgb_to_y_bt601
from superres.ops.resize import imresize_matlab


def test_a_16bit_hr_is_refused_in_one_error(tmp_path):
    (tmp_path / "set").mkdir()
    write_image(tmp_path / "set" / "im.png", np.random.default_rng(0).integers(0, 65536, (24, 26, 3), dtype=np.uint16))
    with pytest.raises(InvalidArgumentError, match="8-bit"):
        evaluate(["bicubic"], [str(tmp_path / "set")], [2])


def test_the_y_float_lr_is_the_float64_bicubic_of_the_uint8_y(tmp_path):
    pixels = np.random.default_rng(4).integers(0, 256, (30, 33, 3), dtype=np.uint8)  # modcrop to 30x33 at x3
    (tmp_path / "set").mkdir()
    write_image(tmp_path / "set" / "im.png", pixels)
    seen = []
    evaluate(["bicubic"], [str(tmp_path / "set")], [3], lr_mode="y-float", on_output=lambda run, out: seen.append(out))
    (out,) = seen
    hr_y = rgb_to_y_bt601(torch.from_numpy(pixels).permute(2, 0, 1)[None])
    assert torch.equal(out.hr, hr_y)
    expected = imresize_matlab(hr_y.to(torch.float64) / 255, 1 / 3).to(torch.float32)
    assert out.lr.dtype == torch.float32 and torch.equal(out.lr, expected)
