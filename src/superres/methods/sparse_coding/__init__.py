"""Sparse-coding SR (Yang et al. 2010): batched lasso solvers, Yang's features,
coupled dictionary learning and the ``scsr`` method.

Modules are imported on use (the method registry loads ``method``)."""
