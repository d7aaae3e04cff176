"""superres: single-image super-resolution with the MATLAB-exact protocol.

Image maths lives in :mod:`superres.ops`, methods in :mod:`superres.methods`,
evaluation in :mod:`superres.evaluation`; see the README for the tree.
"""

__version__ = "0.1.0"
