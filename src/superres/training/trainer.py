"""The trainer shared by every learned model.

One loop, driven by a frozen :class:`~superres.training.config.TrainConfig`:
SGD/Adam/AdamW with per-layer learning-rate factors, constant/step/cosine
schedules (a pure function of the step), gradient clipping by norm, by value
or VDSR's adjustable clipping, bf16 autocast and channels_last, CUDA when
present, validation on a benchmark set with the project's own metric, best
and last checkpoints, exact resume, CSV log and PNG plot, and
DistributedDataParallel under ``torchrun`` (gloo on CPU, NCCL on GPU).

Two optional model hooks: ``load_initial_weights(tensors, card)`` takes the
``model.init_from`` weights (e.g. an x2 SCN's into every stage of a cascade),
and ``stage_targets(targets, scale)`` asks for a loss at every stage
(:meth:`Trainer.batch_loss`).

Exact resume needs no RNG state: batches are a function of ``(seed, step)``
(:class:`~superres.data.patches.PatchSampler`) and the learning rate a
function of the step, so a checkpoint holds the weights, the optimiser
tensors, the step and the bookkeeping.  Checkpoints are safetensors + JSON;
nothing is ever unpickled.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import dataclasses
import io
import json
import math
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save
from torch import nn

from superres.errors import SuperresError, TrainingError
from superres.io.atomic import write_bytes_atomic, write_text_atomic
from superres.models.ensemble import forward_takes_scale
from superres.training.config import TrainConfig
from superres.weights.cards import hardware_description

__all__ = ["Trainer", "lr_at_step", "TrainResult"]

_LOG_FIELDS = ["step", "loss", "lr", "val_psnr", "wall_s", "samples_per_s"]


def lr_at_step(config: TrainConfig, step: int) -> float:
    """Base learning rate at ``step`` (0-based) for the recipe's schedule."""
    base = config.optim.lr
    sched = config.schedule
    total = max(1, config.train.steps)
    if sched.warmup_steps and step < sched.warmup_steps:
        return base * (step + 1) / sched.warmup_steps
    if sched.name == "constant":
        return base
    if sched.name == "step":
        if sched.step_size <= 0:
            raise TrainingError("step schedule needs schedule.step_size > 0")
        return base * sched.gamma ** (step // sched.step_size)
    if sched.name == "cosine":
        start = sched.warmup_steps
        progress = min(1.0, (step - start) / max(1, total - start))
        low = base * sched.min_factor
        return low + 0.5 * (base - low) * (1 + math.cos(math.pi * progress))
    raise TrainingError(f"unknown schedule {sched.name!r} (constant, step or cosine)")


@dataclass
class TrainResult:
    step: int
    best_psnr: float
    last_loss: float
    wall_time_s: float
    run_dir: Path


class _Progress:
    """A one-line progress display on stderr (a log line every N steps when not a terminal)."""

    def __init__(self, total: int, every: int, enabled: bool) -> None:
        self.total, self.every, self.enabled = total, every, enabled
        self.tty = sys.stderr.isatty()

    def update(self, step: int, loss: float, psnr: float | None, rate: float) -> None:
        if not self.enabled:
            return
        remaining = (self.total - step) / rate if rate > 0 else float("inf")
        eta = time.strftime("%H:%M:%S", time.gmtime(remaining)) if math.isfinite(remaining) else "?"
        done = step / self.total
        bar = "#" * int(24 * done) + "-" * (24 - int(24 * done))
        val = f" val {psnr:.3f} dB" if psnr is not None else ""
        text = f"[{bar}] {step}/{self.total} loss {loss:.3e}{val} {rate:.1f} step/s eta {eta}"
        if self.tty:
            print("\r" + text, end="", file=sys.stderr, flush=True)
        elif step % self.every == 0 or step == self.total:
            print(text, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.enabled and self.tty:
            print(file=sys.stderr)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    if isinstance(exc, KeyError) and len(exc.args) == 1:
        text = f"no entry {exc.args[0]!r}"
    return (text.splitlines() or [type(exc).__name__])[0]


@contextlib.contextmanager
def _first_step_errors(config: TrainConfig) -> Iterator[None]:
    """The first training step of a process meets the model and the data together: a shape or
    argument mismatch there (a border, an input mode, scales the model lacks) is the recipe's,
    and becomes one line.  Later steps raise as they are."""
    try:
        yield
    except (TypeError, ValueError, RuntimeError, KeyError) as exc:
        if isinstance(exc, torch.OutOfMemoryError):
            raise
        m, d = config.model, config.data
        raise TrainingError(
            f"the model and the training data do not fit together ({_first_line(exc)}); check model.args, "
            f"model.input ({m.input!r}), data.scales ({list(d.scales)}), data.patch_size ({d.patch_size}) "
            f"and data.label_border ({d.label_border})"
        ) from None


@contextlib.contextmanager
def _init_error(what: str) -> Iterator[None]:
    """A state dict that does not fit becomes one line: ``what`` and the first mismatch torch names."""
    try:
        yield
    except RuntimeError as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        raise TrainingError(f"{what}: {lines[1] if len(lines) > 1 else lines[0]}") from None


class Trainer:
    """Train ``config`` into ``run_dir`` (resuming from its last checkpoint if there is one)."""

    def __init__(self, config: TrainConfig, run_dir: str | Path, *, data_dir: str | None = None, progress: bool = True, command: str = "") -> None:
        self.config = config
        self.run_dir = Path(run_dir)
        self.data_dir = data_dir
        self.command = command
        self.world_size = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.is_main = self.rank == 0
        self.distributed = self.world_size > 1
        if config.train.threads:
            torch.set_num_threads(config.train.threads)
        if torch.cuda.is_available():
            local = int(os.environ.get("LOCAL_RANK", "0"))
            self.device = torch.device("cuda", local)
            torch.cuda.set_device(self.device)
            # training patches have one size, so cuDNN's per-shape autotuning pays at once
            torch.backends.cudnn.benchmark = True
        else:
            self.device = torch.device("cpu")
        if self.distributed and not torch.distributed.is_initialized():
            torch.distributed.init_process_group("nccl" if self.device.type == "cuda" else "gloo")
        self.progress = _Progress(config.train.steps, config.train.log_every, progress and self.is_main)
        if config.train.batch_size % self.world_size:
            raise TrainingError(f"batch size {config.train.batch_size} is not divisible by {self.world_size} processes")

    # ----- building blocks -------------------------------------------------------------
    def build_model(self) -> nn.Module:
        """The configured network, seeded alike on every rank, with ``init_from``/``init_into`` weights loaded."""
        from superres.models.registry import build_model
        from superres.weights.store import load_weights

        torch.manual_seed(self.config.train.seed)  # same initial weights on every rank
        architecture, args = self.config.model.architecture, self.config.model.args
        try:
            model = build_model(architecture, **args)
        except SuperresError:
            raise
        except (TypeError, ValueError, RuntimeError, KeyError) as exc:  # a wrong or mistyped model.args entry
            reason = _first_line(exc)
            raise TrainingError(f"model.args {args} do not build a {architecture!r}: {reason}") from None
        if self.config.model.init_from:
            entry = load_weights(self.config.model.init_from)
            # A model may take weights of another architecture as its start (the SCN cascade
            # takes an x2 SCN's) through load_initial_weights(tensors, card).
            loader = getattr(model, "load_initial_weights", None)
            with _init_error(f"model.init_from {self.config.model.init_from!r} does not fit the model"):
                if callable(loader):
                    loader(entry.tensors, entry.card)
                else:
                    model.load_state_dict(entry.tensors, strict=True)
        for submodule, source in self.config.model.init_into.items():
            try:
                target = model.get_submodule(submodule)
            except AttributeError:
                raise TrainingError(f"model.init_into: the model has no submodule {submodule!r}") from None
            with _init_error(f"model.init_into {source!r} does not fit {submodule!r}"):
                target.load_state_dict(load_weights(source).tensors, strict=True)
        return model

    def build_optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        """The configured optimiser, one parameter group per learning-rate multiplier."""
        cfg = self.config.optim
        groups: dict[float, list[nn.Parameter]] = {}
        names = [name for name, _ in model.named_parameters()]
        for prefix in cfg.lr_multipliers:  # a mistyped prefix would leave every layer at the full rate
            if not any(name.startswith(prefix) for name in names):
                roots = sorted({name.split(".")[0] + "." for name in names})
                raise TrainingError(f"optim.lr_multipliers: {prefix!r} starts no parameter name "
                                    f"(the model's begin with {', '.join(roots)})")
        for name, param in model.named_parameters():
            factor = 1.0
            for prefix, mult in cfg.lr_multipliers.items():
                if name.startswith(prefix):
                    factor = float(mult)
            if factor == 0.0:
                # A frozen layer never moves, so its gradient is wasted work, and when the frozen
                # layers come first (a cascade's first SCN) so is the whole backward pass through them.
                param.requires_grad_(False)
            groups.setdefault(factor, []).append(param)
        param_groups = [{"params": params, "lr_factor": factor, "lr": cfg.lr * factor} for factor, params in groups.items()]
        if cfg.name == "sgd":
            return torch.optim.SGD(param_groups, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
        if cfg.name == "adam":
            return torch.optim.Adam(param_groups, lr=cfg.lr, betas=tuple(cfg.betas), weight_decay=cfg.weight_decay)
        if cfg.name == "adamw":
            return torch.optim.AdamW(param_groups, lr=cfg.lr, betas=tuple(cfg.betas), weight_decay=cfg.weight_decay)
        raise TrainingError(f"unknown optimiser {cfg.name!r} (sgd, adam or adamw)")

    def loss_fn(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The configured training loss (mse, l1 or charbonnier) of ``pred`` against ``target``."""
        name = self.config.train.loss
        if name == "mse":
            return F.mse_loss(pred, target)
        if name == "l1":
            return F.l1_loss(pred, target)
        if name == "charbonnier":
            return torch.sqrt((pred - target) ** 2 + 1e-6).mean()
        raise TrainingError(f"unknown loss {name!r} (mse, l1 or charbonnier)")

    def batch_loss(self, train_model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, scale: int) -> torch.Tensor:
        """The loss of one batch.

        Sub-pixel models (``input="lr"``) take the batch's scale.  A model that
        defines ``stage_targets(targets, scale)`` (a cascade) is trained with a loss
        at every stage: it is called with ``return_stages=True``, returns one
        output per stage, and the loss is the mean of ``loss_fn`` over the stages.
        """
        net = self._inference_model(train_model)
        staged = callable(getattr(net, "stage_targets", None))
        args = (inputs, scale) if self.config.model.input == "lr" and forward_takes_scale(net) else (inputs,)
        kwargs = {"return_stages": True} if staged else {}
        use_bf16 = self.config.train.precision == "bf16"
        with torch.autocast(device_type=self.device.type, dtype=torch.bfloat16, enabled=use_bf16):
            pred = train_model(*args, **kwargs)  # through the DDP wrapper, so gradients are synchronised
        if not staged:
            return self.loss_fn(*self._scored(pred.float(), targets, targets))
        stage_targets = net.stage_targets(targets, scale)
        if len(stage_targets) != len(pred):
            raise TrainingError(f"{type(net).__name__} made {len(pred)} stage outputs for {len(stage_targets)} targets")
        return sum(self.loss_fn(*self._scored(p.float(), t, targets)) for p, t in zip(pred, stage_targets)) / len(pred)

    def _scored(self, pred: torch.Tensor, target: torch.Tensor, final: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``pred`` and ``target`` without ``train.loss_border`` pixels per side (scaled by the
        size of ``target`` against the final output's, for a cascade's stages; rounded up)."""
        if pred.shape != target.shape:  # the loss would broadcast them (with a warning at most)
            raise TrainingError(f"the network made outputs of {tuple(pred.shape)} for targets of {tuple(target.shape)}")
        border = self.config.train.loss_border
        if border <= 0:
            return pred, target
        b = math.ceil(border * target.shape[-1] / final.shape[-1])
        if 2 * b >= min(target.shape[-2:]):
            raise TrainingError(f"train.loss_border={border} leaves nothing of a {tuple(target.shape[-2:])} output to score")
        return pred[..., b:-b, b:-b], target[..., b:-b, b:-b]

    def clip_gradients(self, model: nn.Module, lr: float) -> None:
        """Clip ``model``'s gradients in place as the ``clip`` config says (``adjustable``: by ``value / lr``)."""
        clip = self.config.clip
        params = [p for p in model.parameters() if p.grad is not None]
        if clip.mode == "none":
            return
        if clip.mode == "norm":
            torch.nn.utils.clip_grad_norm_(params, clip.value)
        elif clip.mode == "value":
            torch.nn.utils.clip_grad_value_(params, clip.value)
        elif clip.mode == "adjustable":
            # VDSR: gradients clipped to [-theta / lr, theta / lr], so the update lr * g stays
            # within theta however high the learning rate.
            torch.nn.utils.clip_grad_value_(params, clip.value / max(lr, 1e-12))
        else:
            raise TrainingError(f"unknown clip mode {clip.mode!r} (none, norm, value, adjustable)")

    # ----- checkpoints -----------------------------------------------------------------
    @property
    def checkpoint_dir(self) -> Path:
        """Folder of the run's checkpoint files."""
        return self.run_dir / "checkpoint"

    def save_checkpoint(self, model: nn.Module, optimizer: torch.optim.Optimizer, state: dict) -> None:
        """Write ``ckpt-<step>.safetensors`` then point ``last.json`` at it (both atomic)."""
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
        opt = optimizer.state_dict()
        scalars: dict[str, dict] = {}
        for pid, pstate in opt["state"].items():
            for key, value in pstate.items():
                if isinstance(value, torch.Tensor):
                    tensors[f"optim.{pid}.{key}"] = value.detach().cpu().contiguous().clone()
                elif value is not None:
                    scalars.setdefault(str(pid), {})[key] = value
        name = f"ckpt-{state['step']:08d}.safetensors"
        write_bytes_atomic(self.checkpoint_dir / name, save(tensors))
        groups = [{k: v for k, v in g.items() if k != "params"} | {"params": g["params"]} for g in opt["param_groups"]]
        meta = dict(state, file=name, optim_groups=groups, optim_scalars=scalars, config=self.config.to_dict())
        write_text_atomic(self.checkpoint_dir / "last.json", json.dumps(meta, indent=1))
        for old in self.checkpoint_dir.glob("ckpt-*.safetensors"):
            if old.name != name:
                old.unlink(missing_ok=True)

    def load_checkpoint(self, model: nn.Module, optimizer: torch.optim.Optimizer, *, allow_changes: bool = False) -> dict | None:
        """Restore ``model`` and ``optimizer`` from the last checkpoint; returns its metadata, or None if there is none.

        A checkpoint made with other settings is refused (the resumed run would not be the one
        it continues) unless ``allow_changes``; the model's settings must match in any case."""
        meta_path = self.checkpoint_dir / "last.json"
        if not meta_path.is_file():
            return None
        meta = json.loads(meta_path.read_text())
        changed = _changed_settings(meta["config"], self.config.to_dict())
        shown = ", ".join(f"{key} {old!r} -> {new!r}" for key, (old, new) in list(changed.items())[:4])
        shown += f" and {len(changed) - 4} more" if len(changed) > 4 else ""
        if any(key.startswith("model.") for key in changed):
            raise TrainingError(f"{self.run_dir}: the checkpoint was made with another model ({shown}); "
                                f"use a new --run-dir or --restart")
        if changed and not allow_changes:
            raise TrainingError(
                f"{self.run_dir}: the checkpoint was made with other settings ({shown}), so resuming would not "
                f"continue that run; repeat its settings (config.json), use a new --run-dir or --restart, "
                f"or --allow-changes to go on with the new ones"
            )
        if changed and self.is_main:
            print(f"resuming with changed settings: {shown}", file=sys.stderr)
        tensors = load_file(str(self.checkpoint_dir / meta["file"]))
        model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")}, strict=True)
        state: dict[int, dict] = {}
        for key, value in tensors.items():
            if key.startswith("optim."):
                _, pid, name = key.split(".", 2)
                # left where it was loaded: Optimizer.load_state_dict moves each state tensor to its
                # parameter's device, except Adam's step counter, which torch keeps on the CPU on
                # purpose (on a GPU it would cost a sync per parameter per step)
                state.setdefault(int(pid), {})[name] = value
        for pid, values in meta.get("optim_scalars", {}).items():
            state.setdefault(int(pid), {}).update(values)
        optimizer.load_state_dict({"state": state, "param_groups": meta["optim_groups"]})
        return meta

    def _fitted_config(self, cfg: TrainConfig) -> TrainConfig:
        """``cfg`` with the step count its checkpoint's run was fitted to by ``--time-budget``, if any."""
        meta_path = self.checkpoint_dir / "last.json"
        if not meta_path.is_file():
            return cfg
        meta = json.loads(meta_path.read_text())
        if not meta.get("fitted_steps"):
            # never fitted (a run without a budget, or one stopped before its fit): its step
            # count is the recipe's, and a new train.steps extends it (with --allow-changes)
            return cfg
        saved = meta.get("config", {}).get("train", {})
        fitted = saved.get("steps")
        if isinstance(fitted, int) and fitted != cfg.train.steps:
            return dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, steps=fitted))
        return cfg

    # ----- validation and export -------------------------------------------------------
    def card(self, model: nn.Module, state: dict) -> dict:
        """The model card of ``model`` as trained so far (``state``: the training loop's state)."""
        from superres.models.cost import count_parameters

        cfg = self.config
        return {
            "name": f"{cfg.method}.{cfg.name}",
            "method": cfg.method,
            "architecture": cfg.model.architecture,
            "model_args": dict(cfg.model.args),
            "input": cfg.model.input,
            "round_y_input": cfg.model.round_y_input,
            "channels": "y",
            "scales": sorted({float(s) for s in cfg.data.scales}),
            "params": count_parameters(model),
            "training": {
                "data": list(cfg.data.train),
                "recipe": cfg.recipe,
                "command": self.command,
                "steps": state["step"],
                "planned_steps": cfg.train.steps,
                "batch_size": cfg.train.batch_size,
                "patch_size": cfg.data.patch_size,
                "optimizer": cfg.optim.name,
                "lr": cfg.optim.lr,
                "schedule": cfg.schedule.name,
                "precision": cfg.train.precision,
                "wall_time_s": round(state["wall_time_s"], 1),
                "hardware": hardware_description(self.device),
                "processes": self.world_size,
                "best_val_psnr": state.get("best_psnr"),
                "val_dataset": cfg.train.val_dataset,
            },
            "evaluation": {},
        }

    def _inference_model(self, model: nn.Module) -> nn.Module:
        return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model

    def validate(self, model: nn.Module, state: dict) -> float:
        """Mean PSNR over the validation set and scales, with the evaluation protocol."""
        from superres.evaluation.benchmark import evaluate_method
        from superres.methods.base import MethodInfo
        from superres.methods.learned import LearnedMethod

        net = self._inference_model(model)
        net.eval()
        if hasattr(net, "padding"):
            net.padding = "replicate"
        card = self.card(net, state)
        scales = self.config.train.val_scales or self.config.data.scales
        info = MethodInfo(name=self.config.method, family="cnn", summary="validation")
        method = LearnedMethod.from_model(info, net, card, round_y_input=self.config.model.round_y_input, device=self.device)
        psnrs = []
        for s in scales:
            run = evaluate_method(method, self.config.train.val_dataset, float(s), data_dir=self.data_dir)
            psnrs.append(run.mean_psnr)
        net.train()
        if self.config.model.valid_training and hasattr(net, "padding"):
            net.padding = "valid"
        return sum(psnrs) / len(psnrs)

    def export(self, model: nn.Module, state: dict, filename: str) -> Path:
        """Save ``model`` (unwrapped from DDP) with its card as ``run_dir / filename``; returns the path."""
        from superres.weights.store import save_weights

        net = self._inference_model(model)
        return save_weights(self.run_dir / filename, net.state_dict(), self.card(net, state))

    # ----- the loop --------------------------------------------------------------------
    def _log_row(self, row: dict) -> None:
        path = self.run_dir / "log.csv"
        new = not path.exists()
        with open(path, "a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=_LOG_FIELDS, lineterminator="\n")
            if new:
                writer.writeheader()
            writer.writerow(row)

    def _write_config(self) -> None:
        # the recipe as run (with overrides and a fitted step count): what a resume must repeat
        write_text_atomic(self.run_dir / "config.json", json.dumps(self.config.to_dict(), indent=1))

    def _check_ranks_agree(self, step: int, pairs) -> None:
        """Every rank must start at the same step, with the same settings and training pairs: a
        rank that resumed from another checkpoint hung the run at its first collective, and one
        that read other images (a node's own copy) changed the weights without a word."""
        content = torch.zeros((), dtype=torch.float64)
        for target in pairs.targets:
            content += target.double().sum()
        mine = {"step": step, "config": json.dumps(self.config.to_dict(), sort_keys=True),
                "pairs": [tuple(t.shape) for t in pairs.targets], "content": content.item()}
        every: list[dict | None] = [None] * self.world_size
        torch.distributed.all_gather_object(every, mine)
        for rank, theirs in enumerate(every):
            differing = [key for key in mine if theirs[key] != every[0][key]]
            if differing:
                raise TrainingError(f"the processes of this run disagree: rank {rank}'s {', '.join(differing)} "
                                    f"differ from rank 0's (the same run folder, data and command on every node?)")

    def _truncate_log(self, step: int) -> None:
        # After a resume, rows written past the checkpoint would be repeated: drop them.
        path = self.run_dir / "log.csv"
        if not path.exists():
            return
        with open(path, newline="") as handle:
            rows = [r for r in csv.DictReader(handle) if int(r["step"]) <= step]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=_LOG_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        write_text_atomic(path, buffer.getvalue())

    def train(
        self,
        *,
        restart: bool = False,
        stop_after: int | None = None,
        on_step: Callable[[int, float], None] | None = None,
        time_budget_s: float | None = None,
        allow_changes: bool = False,
    ) -> TrainResult:
        """Run (or resume) the recipe.  ``stop_after`` ends early after that many steps (for tests).

        ``time_budget_s`` fits the run to a wall-clock budget (a lent GPU's minutes): the speed is
        measured over the first steps and ``train.steps`` lowered to what fits, before the schedule
        depends on it (inside the warm-up when it is long enough, else on steps then undone), so
        the run equals one started with that step count; the card and config.json record the
        count used, and a resume with the same command keeps that count.  ``allow_changes`` resumes a checkpoint made with other
        settings than ``config``'s (not another model), e.g. to go on at a lower learning rate.
        """
        from superres.data.datasets import benchmark_images, training_images
        from superres.data.patches import PatchSampler, prepare_pairs

        from superres.methods.registry import METHODS

        cfg = self.config
        if cfg.method not in METHODS and self.is_main:
            print(f"note: method {cfg.method!r} is not registered: `superres evaluate -m {cfg.method}=FILE` will "
                  f"not find it (the registered learned methods: superres models)", file=sys.stderr)
        model = self.build_model().to(self.device)
        untrained = sorted(set(cfg.train.val_scales) - set(cfg.data.scales))
        if untrained and not getattr(model, "any_scale", False):
            # found now, not at the first validation after minutes of training
            raise TrainingError(f"train.val_scales {untrained} are not trained (data.scales {list(cfg.data.scales)}) "
                                f"and {cfg.model.architecture!r} serves only the scales it was trained at")
        for scale in cfg.train.val_scales or cfg.data.scales:  # a misspelt set, too, is found now
            benchmark_images(cfg.train.val_dataset, float(scale), data_dir=self.data_dir)
        files = training_images(list(cfg.data.train), data_dir=self.data_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)  # after the checks: a refused run leaves no folder
        if cfg.model.valid_training and hasattr(model, "padding"):
            model.padding = "valid"
        if cfg.train.channels_last:
            model = model.to(memory_format=torch.channels_last)
        optimizer = self.build_optimizer(model)
        self.model = model  # kept for callers (e.g. to compare ranks after a distributed run)
        state = {"step": 0, "best_psnr": None, "wall_time_s": 0.0, "last_loss": None}
        if not restart:
            if time_budget_s:
                # A run fitted to a budget resumes with the step count it was fitted to (its schedule
                # depends on it), not a new fit from wherever it stopped.
                cfg = self.config = self._fitted_config(cfg)
            meta = self.load_checkpoint(model, optimizer, allow_changes=allow_changes)
            if meta is not None:
                state.update({k: meta[k] for k in ("step", "best_psnr", "wall_time_s", "last_loss")})
                if meta.get("fitted_steps"):
                    state["fitted_steps"] = meta["fitted_steps"]
                    time_budget_s = None  # fitted once, in the first leg
                if self.is_main:
                    fitted = f" of the {cfg.train.steps} fitted to its time budget" if state.get("fitted_steps") else ""
                    print(f"resuming {cfg.name} at step {state['step']}{fitted}", file=sys.stderr)
                    self.progress.total = cfg.train.steps
        if self.is_main:
            self._truncate_log(state["step"])
            self._write_config()
        pairs = prepare_pairs(files, cfg.data.scales, input_mode=cfg.model.input, downscales=cfg.data.downscales)
        sampler = PatchSampler(
            pairs,
            patch_size=cfg.data.patch_size,
            batch_size=cfg.train.batch_size,
            mode=cfg.data.patch_mode,
            stride=cfg.data.stride,
            label_border=cfg.data.label_border,
            augment=cfg.data.augment,
            seed=cfg.train.seed,
        )
        if self.distributed:
            self._check_ranks_agree(state["step"], pairs)
        train_model: nn.Module = model
        if self.distributed:
            # Our buffers are fixed (e.g. the bicubic kernel), identical on every rank: no need to broadcast.
            # A cascade's later stages sit unused on the batches of small scales.
            staged = callable(getattr(model, "stage_targets", None))
            train_model = nn.parallel.DistributedDataParallel(
                model, device_ids=[self.device.index] if self.device.type == "cuda" else None, broadcast_buffers=False,
                find_unused_parameters=staged,
            )
        train_model.train()
        end = cfg.train.steps if stop_after is None else min(cfg.train.steps, state["step"] + stop_after)
        budget = _TimeBudget(time_budget_s, state["step"], cfg) if time_budget_s else None
        if budget is not None and budget.probe_outside_warmup:
            # Timing the run's own first steps would already follow a schedule of the recipe's
            # length: time steps that are then undone instead.
            budget.measured(self._undone_steps_rate(train_model, model, optimizer, sampler, state["step"],
                                                    _TimeBudget.SETTLE, budget.probe))
        batches = _step_batches(sampler, state["step"], end, rank=self.rank, world_size=self.world_size,
                                workers=cfg.train.workers, pin=self.device.type == "cuda")
        t_last = window_start = time.perf_counter()
        steps_since, loss_sum = 0, 0.0
        updating = False
        if cfg.model.input == "lr":  # a scale of the data the network lacks would fail only when its batch comes
            model.eval()  # no batch statistics of a network that keeps them may learn from the probe
            with _first_step_errors(cfg), torch.no_grad():
                probe = torch.zeros(1, 1, cfg.data.patch_size, cfg.data.patch_size, device=self.device)
                for scale in cfg.data.scales:
                    model(probe, scale) if forward_takes_scale(model) else model(probe)
            model.train()
        stop = _StopRequests()
        first_step = state["step"]
        try:
            with stop.deferred():
                while state["step"] < end:
                    step = state["step"]
                    if budget is not None:
                        fitted = budget.fit(step)
                        if fitted is not None and self.distributed:  # every rank must stop at the same step
                            agreed = torch.tensor([fitted], device=self.device)
                            torch.distributed.all_reduce(agreed, op=torch.distributed.ReduceOp.MIN)
                            fitted = int(agreed.item())
                        if fitted is not None and fitted < cfg.train.steps:
                            cfg = self.config = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, steps=fitted))
                            state["fitted_steps"] = fitted
                            end = min(end, fitted)
                            self.progress.total = fitted
                            if self.is_main:
                                self._write_config()
                                print(f"{cfg.name}: {budget.rate:.1f} steps/s, {time_budget_s:.0f} s budget -> "
                                      f"train.steps = {fitted}", file=sys.stderr)
                    lr = self._set_lr(optimizer, step)
                    with _first_step_errors(cfg) if step == first_step else contextlib.nullcontext():
                        loss = self._loss_of(train_model, next(batches))
                    if not torch.isfinite(loss):
                        raise TrainingError(
                            f"loss became {loss.item()} at step {step}; stopped. The last good checkpoint "
                            f"is in {self.checkpoint_dir}; lower the learning rate or enable clipping"
                        )
                    updating = True  # weights of step + 1, counter of step: not a state to save
                    self._update(model, optimizer, loss, lr)
                    state["step"] = step + 1
                    updating = False
                    reported = loss.detach()
                    if self.distributed:  # each rank saw its share of the batch: log the whole batch's loss
                        torch.distributed.all_reduce(reported)
                        reported = reported / self.world_size
                    loss_value = reported.item()
                    state["last_loss"] = loss_value
                    loss_sum += loss_value
                    steps_since += 1
                    now = time.perf_counter()
                    state["wall_time_s"] += now - t_last
                    t_last = now
                    if on_step is not None:
                        on_step(state["step"], loss_value)
                    val_psnr = None
                    s = state["step"]
                    is_last = s == end
                    if self.is_main and (s % cfg.train.val_every == 0 or (is_last and s == cfg.train.steps)):
                        val_psnr = self.validate(train_model, state)
                        if state["best_psnr"] is None or val_psnr > state["best_psnr"]:
                            state["best_psnr"] = val_psnr
                            self.export(model, state, "best.safetensors")
                    if self.distributed and (s % cfg.train.val_every == 0):
                        torch.distributed.barrier()
                    if self.is_main and (s % cfg.train.log_every == 0 or val_psnr is not None or is_last):
                        elapsed = max(1e-9, time.perf_counter() - window_start)
                        self._log_row({
                            "step": s,
                            "loss": f"{loss_sum / steps_since:.6e}",
                            "lr": f"{lr:.3e}",
                            "val_psnr": "" if val_psnr is None else f"{val_psnr:.4f}",
                            "wall_s": f"{state['wall_time_s']:.1f}",
                            "samples_per_s": f"{steps_since * cfg.train.batch_size / elapsed:.1f}",
                        })
                        self.progress.update(s, loss_sum / steps_since, state["best_psnr"], steps_since / elapsed)
                        loss_sum, steps_since = 0.0, 0
                        window_start = t_last = time.perf_counter()
                    interrupt = stop.agreed(self.distributed, self.device) and not is_last  # every rank, every step
                    if self.is_main and (s % cfg.train.checkpoint_every == 0 or is_last) and not interrupt:
                        self.save_checkpoint(model, optimizer, state)
                    if interrupt:
                        raise KeyboardInterrupt  # saved just below, at this finished step
        except KeyboardInterrupt:
            # Ctrl-C, SIGINT or SIGTERM (a scheduler, a lent GPU's deadline), taken at the end of
            # a step (validation included): keep every finished step.  A second Ctrl-C lands
            # at once, and then only a finished step is saved.
            if self.is_main and state["step"] > 0 and not updating:
                self.save_checkpoint(model, optimizer, state)
                self.export(model, state, "last.safetensors")
                print(f"{cfg.name}: interrupted at step {state['step']}; checkpoint saved", file=sys.stderr)
            raise
        self.progress.close()
        if self.is_main:
            self.export(model, state, "last.safetensors")
            self.plot()
        if self.distributed:
            torch.distributed.barrier()
        return TrainResult(state["step"], state["best_psnr"] or float("nan"), state["last_loss"] or float("nan"), state["wall_time_s"], self.run_dir)

    def _set_lr(self, optimizer: torch.optim.Optimizer, step: int) -> float:
        """Set every parameter group's rate for ``step`` (its multiplier applied); returns the base rate."""
        lr = lr_at_step(self.config, step)
        for group in optimizer.param_groups:
            group["lr"] = lr * group.get("lr_factor", 1.0)
        return lr

    def _loss_of(self, train_model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor, int]) -> torch.Tensor:
        """:meth:`batch_loss` of a sampler batch ``(inputs, targets, scale)``, moved to the device."""
        inputs, targets, scale = batch
        inputs, targets = inputs.to(self.device, non_blocking=True), targets.to(self.device, non_blocking=True)
        if self.config.train.channels_last:
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        return self.batch_loss(train_model, inputs, targets, scale)

    def _update(self, model: nn.Module, optimizer: torch.optim.Optimizer, loss: torch.Tensor, lr: float) -> None:
        """One optimiser step from ``loss``: gradients, clipping at rate ``lr``, update."""
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.clip_gradients(model, lr)
        optimizer.step()

    def _undone_steps_rate(self, train_model: nn.Module, model: nn.Module, optimizer: torch.optim.Optimizer,
                           sampler, start: int, settle: int, timed: int) -> float:
        """Steps per second of ``timed`` training steps from ``start`` (after ``settle`` untimed ones),
        then undone: the weights and the optimiser state are put back as they were."""
        saved_model = copy.deepcopy(model.state_dict())
        saved_optimizer = copy.deepcopy(optimizer.state_dict())
        lr = self._set_lr(optimizer, start)
        batches = _step_batches(sampler, start, start + settle + timed, rank=self.rank, world_size=self.world_size,
                                workers=self.config.train.workers, pin=self.device.type == "cuda")
        t0 = time.perf_counter()
        with _first_step_errors(self.config):
            for i, batch in enumerate(batches):
                if i == settle:
                    if self.device.type == "cuda":
                        torch.cuda.synchronize(self.device)
                    t0 = time.perf_counter()
                loss = self._loss_of(train_model, batch)
                self._update(model, optimizer, loss, lr)
            loss.item()  # waits for the device
        rate = timed / max(1e-9, time.perf_counter() - t0)
        model.load_state_dict(saved_model)
        optimizer.load_state_dict(saved_optimizer)
        optimizer.zero_grad(set_to_none=True)
        return rate

    def plot(self) -> Path | None:
        """Loss and validation PSNR against steps, from log.csv, as plot.png; None without matplotlib
        (the plot is a by-product: a run never fails for it)."""
        from superres.training.plots import plot_training_log

        try:
            return plot_training_log(self.run_dir / "log.csv", self.run_dir / "plot.png", title=self.config.name)
        except SuperresError:
            return None


#: settings a resume may change: they leave what a run computes as it was (the initial weights
#: only start a run: a resume takes the checkpoint's, wherever the start now lies), or, for
#: train.threads and train.channels_last, change only the float rounding (about 1e-7: another
#: summation order), so a resume is bit-exact only with the same threads and layout, as on
#: another machine (threads = 0 takes its core count)
_RESUMABLE_CHANGES = frozenset({
    "train.threads", "train.workers", "train.log_every", "train.val_every", "train.checkpoint_every",
    "train.val_dataset", "train.val_scales", "train.channels_last", "model.init_from", "model.init_into",
})


def _changed_settings(saved: dict, current: dict, prefix: str = "") -> dict[str, tuple]:
    """Settings of ``current`` that differ from the checkpoint's ``saved`` config -> (saved, current),
    leaving out :data:`_RESUMABLE_CHANGES` and keys a checkpoint of an older version lacks."""
    changed: dict[str, tuple] = {}
    for key, value in current.items():
        name = f"{prefix}{key}"
        if key not in saved or name in _RESUMABLE_CHANGES:
            continue
        if isinstance(value, dict) and isinstance(saved[key], dict) and key != "args":
            changed.update(_changed_settings(saved[key], value, f"{name}."))
        elif _jsonable(saved[key]) != _jsonable(value):
            changed[name] = (saved[key], value)
    return changed


def _jsonable(value: object) -> object:
    # the checkpoint's config went through JSON: tuples came back as lists
    return json.loads(json.dumps(value))


class _StopRequests:
    """SIGINT and SIGTERM, held until the step in progress (and its validation) is done.

    The first signal only asks: the loop saves a checkpoint at the end of the step and stops.
    A second SIGINT raises at once (the user insists).  Handlers are installed only in the
    main thread (Python allows no other), and the previous ones restored after.
    """

    def __init__(self) -> None:
        self.signal: int | None = None

    def _handler(self, signum: int, _frame: object) -> None:
        if self.signal is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.signal = signum

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """Hold the signals while the block runs."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self._handler) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def agreed(self, distributed: bool, device: torch.device) -> bool:
        """Whether to stop now; under DDP every rank stops at the same step if any was asked."""
        if not distributed:
            return self.signal is not None
        flag = torch.tensor([0 if self.signal is None else 1], device=device)
        torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX)
        return bool(flag.item())


class _BatchesByStep(torch.utils.data.Dataset):
    """Step ``i`` -> the sampler's batch ``i`` for one rank (what the loader's workers call)."""

    def __init__(self, sampler, end: int, rank: int, world_size: int) -> None:
        self.sampler, self.end, self.rank, self.world_size = sampler, end, rank, world_size

    def __len__(self) -> int:
        return self.end

    def __getitem__(self, step: int):
        return self.sampler.batch(step, rank=self.rank, world_size=self.world_size)


def _one_thread(_worker: int) -> None:
    """A batch worker's set-up: one thread, and deaf to SIGINT.

    Ctrl-C and ``timeout -s INT`` reach the whole process group: a worker that died of it made
    the loader raise mid-step, and the trainer's stop at the end of the step (with its
    checkpoint) never came. SIGTERM keeps its default: the loader ends workers that linger with
    it (a worker deaf to it hung the interpreter's exit), so a scheduler's SIGTERM to the whole
    group still ends the workers with the trainer; send it to the trainer alone."""
    torch.set_num_threads(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _step_batches(sampler, start: int, end: int, *, rank: int, world_size: int, workers: int, pin: bool):
    """Batches of steps ``start, start+1, ...`` in order: cut in the loop, or ahead by worker processes."""
    if workers <= 0:
        return (sampler.batch(step, rank=rank, world_size=world_size) for step in range(start, end))
    # fork shares the prepared images with the workers instead of pickling gigabytes to each
    context = "fork" if "fork" in torch.multiprocessing.get_all_start_methods() else None
    loader = torch.utils.data.DataLoader(
        _BatchesByStep(sampler, end, rank, world_size), batch_size=None, sampler=range(start, end),
        num_workers=workers, pin_memory=pin, prefetch_factor=4, worker_init_fn=_one_thread,
        multiprocessing_context=context,
    )
    return iter(loader)


class _TimeBudget:
    """Measures steps per second early in a run and says how many steps fit the budget."""

    #: steps before timing starts (allocator and cuDNN autotuning), then steps timed
    SETTLE, PROBE = 20, 100
    #: share of the remaining time given to steps; the rest covers validation and checkpoints
    SAFETY = 0.85

    def __init__(self, budget_s: float, start_step: int, config: TrainConfig) -> None:
        self.budget_s = float(budget_s)
        self.started = time.perf_counter()
        self.start_step = start_step
        warmup = config.schedule.warmup_steps
        # measure inside the warm-up when there is one, so the schedule has not yet used train.steps
        self.probe = min(self.PROBE, max(10, warmup - self.SETTLE - 1)) if warmup > 0 else self.PROBE
        # A cosine past its warm-up depends on train.steps: steps timed there must be undone.
        self.probe_outside_warmup = (config.schedule.name == "cosine"
                                     and start_step + self.SETTLE + self.probe > warmup)
        self.t0: float | None = None
        self.rate = 0.0
        self.done = False
        self.preset: int | None = None

    def measured(self, rate: float) -> None:
        """Take ``rate`` (steps/s, timed on steps that were undone) as the run's speed."""
        self.rate = rate
        remaining = self.budget_s - (time.perf_counter() - self.started)
        self.preset = self.start_step + max(1, int(rate * remaining * self.SAFETY))

    def fit(self, step: int) -> int | None:
        """The step count that fits the budget, once it is known (at the probe's end, or at
        once after :meth:`measured`); None before and after."""
        if self.done:
            return None
        if self.preset is not None:
            self.done = True
            return self.preset
        if step == self.start_step + self.SETTLE:
            self.t0 = time.perf_counter()
        elif self.t0 is not None and step == self.start_step + self.SETTLE + self.probe:
            now = time.perf_counter()
            self.rate = self.probe / (now - self.t0)
            remaining = self.budget_s - (now - self.started)
            self.done = True
            return step + max(1, int(self.rate * remaining * self.SAFETY))
        return None
