"""Shipped weights (safetensors + JSON cards), loading, and the default model choice."""
