"""Metrics (PSNR, SSIM as ssim_index.m), the benchmark protocol and reports."""

from superres.evaluation.metrics import protocol_metrics, psnr, ssim

__all__ = ["psnr", "ssim", "protocol_metrics"]
