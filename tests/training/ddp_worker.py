"""Run by torchrun in test_distributed.py: train a tiny recipe, save this rank's weights."""

import sys
from pathlib import Path

from safetensors.torch import save_file

from superres.training.config import load_config
from superres.training.trainer import Trainer

recipe, run_dir, out_dir = sys.argv[1:4]
trainer = Trainer(load_config(recipe), run_dir, progress=False)
trainer.train()
save_file({k: v.contiguous() for k, v in trainer.model.state_dict().items()}, str(Path(out_dir) / f"rank{trainer.rank}.safetensors"))
