"""Layers of ildl.nn; each module holds one kind of layer with its forward and backward pass."""

from .activation import Activation
from .base import Layer
from .dense import Dense
from .dropout import Dropout

__all__ = ["Activation", "Dense", "Dropout", "Layer"]

#: Layer classes by name, used to rebuild a model from its saved architecture.
LAYER_CLASSES: dict[str, type[Layer]] = {cls.__name__: cls for cls in (Activation, Dense, Dropout)}
