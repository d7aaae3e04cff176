import math

import pytest
import torch

from superres.errors import InvalidArgumentError
from superres.models.srcnn import SRCNN


def test_gaussian_init_is_the_papers():
    torch.manual_seed(0)
    model = SRCNN(f1=9, f2=1, f3=5)
    for conv in (model.conv1, model.conv2, model.conv3):
        assert conv.weight.std().item() == pytest.approx(1e-3, rel=0.2)
        assert torch.count_nonzero(conv.bias) == 0


def test_he_init_scales_hidden_layers_by_fan_in():
    torch.manual_seed(0)
    model = SRCNN(f1=9, f2=5, f3=5, init="he")
    assert model.conv1.weight.std().item() == pytest.approx(math.sqrt(2 / 81), rel=0.2)
    assert model.conv2.weight.std().item() == pytest.approx(math.sqrt(2 / (64 * 25)), rel=0.1)
    # the reconstruction layer keeps the paper's small init: the output starts near zero
    assert model.conv3.weight.std().item() == pytest.approx(1e-3, rel=0.2)


def test_he_init_keeps_hidden_units_firing():
    torch.manual_seed(0)
    model = SRCNN(f1=9, f2=1, f3=5, init="he")
    image = torch.rand(1, 1, 48, 48)
    hidden = torch.relu(model.conv2(torch.relu(model.conv1(image))))
    assert (hidden.amax(dim=(0, 2, 3)) > 0).float().mean() > 0.8


def test_unknown_init_is_refused():
    with pytest.raises(InvalidArgumentError, match="init"):
        SRCNN(init="xavier")
