"""Training: recipes (config), the shared trainer, schedules, clipping, checkpoints, DDP."""
