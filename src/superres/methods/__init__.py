"""SR methods behind one interface (:class:`SRMethod`), registered by name."""

from superres.methods.base import MethodInfo, SRMethod, YChannelMethod
from superres.methods.registry import METHODS, get_method, list_methods

__all__ = ["MethodInfo", "SRMethod", "YChannelMethod", "METHODS", "get_method", "list_methods"]
