"""ildl.viz: plots and animations built on ildl.nn and ildl.data."""

from .boundary import plot_decision_boundary, prediction_grid
from .training import plot_history

__all__ = ["plot_decision_boundary", "plot_history", "prediction_grid"]
