"""Layers of ildl.nn; each module holds one kind of layer with its forward and backward pass."""

from .activation import Activation
from .base import Layer
from .conv import Conv2D
from .dense import Dense
from .dropout import Dropout
from .normalization import BatchNormalization
from .pooling import AveragePooling2D, GlobalAveragePooling2D, MaxPooling2D
from .reshaping import Flatten, Reshape

__all__ = ["Activation", "AveragePooling2D", "BatchNormalization", "Conv2D", "Dense", "Dropout",
           "Flatten", "GlobalAveragePooling2D", "Layer", "MaxPooling2D", "Reshape"]

#: Layer classes by name, used to rebuild a model from its saved architecture.
LAYER_CLASSES: dict[str, type[Layer]] = {
    cls.__name__: cls for cls in (Activation, AveragePooling2D, BatchNormalization, Conv2D, Dense,
                                  Dropout, Flatten, GlobalAveragePooling2D, MaxPooling2D, Reshape)
}
