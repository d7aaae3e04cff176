"""Run by torchrun in test_distributed.py: train a tiny recipe, save this rank's weights, and list
what this rank wrote into the run folder (rank 0 alone may write there)."""

import sys
from pathlib import Path

from safetensors.torch import save_file

from superres.training.config import load_config
from superres.training.trainer import Trainer

recipe, run_dir, out_dir = sys.argv[1:4]
writes = []
for name in ("save_checkpoint", "export", "plot", "_write_config", "_log_row", "_truncate_log"):
    def recording(self, *args, _name=name, _real=getattr(Trainer, name), **kwargs):
        writes.append(_name)
        return _real(self, *args, **kwargs)
    setattr(Trainer, name, recording)
trainer = Trainer(load_config(recipe), run_dir, progress=False)
trainer.train()
save_file({k: v.contiguous() for k, v in trainer.model.state_dict().items()}, str(Path(out_dir) / f"rank{trainer.rank}.safetensors"))
(Path(out_dir) / f"rank{trainer.rank}-writes.txt").write_text("\n".join(sorted(set(writes))))
