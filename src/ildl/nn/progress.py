"""The training progress bar lives in ``ildl.progress`` (``detect`` and ``explain`` draw it
too); this module keeps ``ildl.nn.progress`` working."""

from ..progress import ProgressBar, format_seconds

__all__ = ["ProgressBar", "format_seconds"]
