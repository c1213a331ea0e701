"""One interface to any image classifier: an ildl.nn ``Sequential``, a ``torch.nn.Module`` or a bare
predict function ``f(images (N, H, W, C)) -> probabilities (N, K)``.

Every explainer talks to a ``Classifier``: ``predict`` for probabilities, and for models that can
be differentiated, ``input_gradient`` and ``activations_and_gradient`` of one class's
probability. Images are always NumPy, channels last; a torch module gets them as NCHW tensors.
The classifier counts ``evaluations``: images the model ran on (a forward pass, or a forward and
a backward pass), the cost measure of every explainer::

    >>> classifier = as_classifier(model)
    >>> classifier.predict(images).shape          # (N, K), every row checked to be probabilities
    >>> classifier.input_gradient(images, target=3).shape     # (N, H, W, C): d p_3 / d images
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import numpy as np

from ..errors import ArgumentError
from ..nn import Conv2D, Sequential
from .checks import check_probabilities


class Classifier:
    """A model seen as ``images (N, H, W, C) -> probabilities (N, K)``, run in batches.

    ``input_shape`` is ``(H, W, C)`` with None where the model accepts any size; ``evaluations``
    counts the images evaluated so far. Subclasses compute one batch in ``_probabilities`` (and,
    when ``has_gradients``, ``_input_gradient`` and ``_activations_and_gradient``).

    >>> classifier = as_classifier(model, batch_size=32)
    >>> classifier.predict(images); classifier.evaluations          # len(images)
    """

    has_gradients = False

    def __init__(self, description: str, input_shape: tuple, batch_size: int = 64):
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ArgumentError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.description = description
        self.input_shape = tuple(input_shape)
        self.batch_size = batch_size
        self.evaluations = 0

    def predict(self, images: np.ndarray) -> np.ndarray:
        """Probabilities ``(N, K)`` for images ``(N, H, W, C)``; refuses outputs that are not."""
        return np.concatenate(self._in_batches(self._checked_probabilities, images))

    def input_gradient(self, images: np.ndarray, target: int) -> np.ndarray:
        """``d p_target / d images``, shape ``(N, H, W, C)`` (each image's own gradient)."""
        self._require_gradients()
        return np.concatenate(self._in_batches(
            lambda batch: self._input_gradient(batch, target), images))

    def activations_and_gradient(self, images: np.ndarray, target: int, layer=None
                                 ) -> tuple[np.ndarray, np.ndarray]:
        """A layer's outputs and ``d p_target / d outputs``, both channels last, e.g.
        ``(N, H', W', channels)``. ``layer``: the model's layer (or its name); None picks the last
        convolution."""
        self._require_gradients()
        activations, grads = zip(*self._in_batches(
            lambda batch: self._activations_and_gradient(batch, target, layer), images))
        return np.concatenate(activations), np.concatenate(grads)

    def _in_batches(self, function: Callable, images: np.ndarray) -> list:
        """``function(batch)`` for consecutive batches of ``images``, counted."""
        results = []
        for start in range(0, len(images), self.batch_size):
            batch = images[start:start + self.batch_size]
            results.append(function(batch))
            self.evaluations += len(batch)
        return results

    def _checked_probabilities(self, batch: np.ndarray) -> np.ndarray:
        return check_probabilities(self._probabilities(batch), len(batch), self.description)

    def _require_gradients(self) -> None:
        if not self.has_gradients:
            raise ArgumentError(
                f"this method needs the model's gradients, which {self.description} "
                f"cannot give; use a black-box method (occlusion, rise, lime, shap) "
                f"or pass an ildl.nn Sequential or a torch.nn.Module")

    def _probabilities(self, batch: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _input_gradient(self, batch: np.ndarray, target: int) -> np.ndarray:
        raise NotImplementedError

    def _activations_and_gradient(self, batch: np.ndarray, target: int, layer):
        raise NotImplementedError


class FunctionClassifier(Classifier):
    """A bare predict function ``f(images (N, H, W, C) float64) -> probabilities (N, K)``.

    >>> classifier = FunctionClassifier(lambda images: softmax(images.mean(axis=(1, 2))))
    """

    def __init__(self, predict: Callable, input_shape: tuple | None = None,
                 batch_size: int = 64):
        name = getattr(predict, "__name__", type(predict).__name__)
        super().__init__(f"the predict function {name!r}", input_shape or (None, None, None),
                         batch_size)
        self.function = predict

    def _probabilities(self, batch):
        return self.function(batch)


class SequentialClassifier(Classifier):
    """An ildl.nn ``Sequential`` ending in a softmax; gradients through its own backward pass.

    >>> classifier = SequentialClassifier(model)      # model.input_shape == (H, W, C)
    """

    has_gradients = True

    def __init__(self, model: Sequential, input_shape: tuple | None = None,
                 batch_size: int = 64):
        if not model.built:
            raise ArgumentError(f"the ildl model {model.name!r} is not built yet; give its first "
                                f"layer an input_shape, or call model.build((H, W, C))")
        if input_shape is not None and tuple(input_shape) != model.input_shape:
            raise ArgumentError(f"input_shape={tuple(input_shape)} was given but the ildl model "
                                f"{model.name!r} takes inputs of shape {model.input_shape}; leave "
                                f"input_shape out (the model knows its own)")
        super().__init__(f"the ildl model {model.name!r}", model.input_shape, batch_size)
        self.model = model

    def _probabilities(self, batch):
        return self.model.predict(batch, batch_size=len(batch))

    def _one_hot(self, rows: int, target: int) -> np.ndarray:
        """Output gradient that selects ``p_target`` in every row."""
        weights = np.zeros((rows, *self.model.output_shape))
        weights[:, target] = 1
        return weights

    def _input_gradient(self, batch, target):
        return self.model.input_gradient(batch, self._one_hot(len(batch), target))

    def _activations_and_gradient(self, batch, target, layer):
        return self.model.activations_and_gradient(batch, self._layer(layer),
                                                   self._one_hot(len(batch), target))

    def _layer(self, layer):
        if layer is not None:
            return layer
        convolutions = [own for own in self.model.layers if isinstance(own, Conv2D)]
        if not convolutions:
            names = [own.name for own in self.model.layers]
            raise ArgumentError(f"{self.description} has no Conv2D layer to take activations from; "
                                f"pass layer=<name> (one of {names})")
        return convolutions[-1]


class TorchClassifier(Classifier):
    """A ``torch.nn.Module`` taking NCHW images and returning probabilities; gradients by
    autograd. The module is put in eval mode (dropout off, batch-norm running statistics), as
    for any prediction; images are sent in the dtype and on the device of its parameters.

    >>> classifier = TorchClassifier(torch.nn.Sequential(net, torch.nn.Softmax(dim=1)))
    """

    has_gradients = True

    def __init__(self, module, input_shape: tuple | None = None, batch_size: int = 64):
        import torch

        first_conv = next((m for m in module.modules() if isinstance(m, torch.nn.Conv2d)), None)
        channels = None if first_conv is None else first_conv.in_channels
        super().__init__(f"the torch module {type(module).__name__}",
                         input_shape or (None, None, channels), batch_size)
        self.module = module.eval()
        parameter = next(module.parameters(), None)
        self.dtype = torch.float32 if parameter is None else parameter.dtype
        self.device = "cpu" if parameter is None else parameter.device

    def tensor(self, images: np.ndarray):
        """NHWC NumPy images -> an NCHW tensor the module can take."""
        import torch

        nchw = np.ascontiguousarray(np.transpose(images, (0, 3, 1, 2)))
        return torch.as_tensor(nchw, dtype=self.dtype, device=self.device)

    def _forward(self, inputs):
        try:
            return self.module(inputs)
        except RuntimeError as error:
            raise ArgumentError(f"{self.description} failed on images sent as an NCHW tensor of "
                                f"shape {tuple(inputs.shape)}: {error}. Check that the image has "
                                f"the size and channels the module was made for") from error

    def _probabilities(self, batch):
        import torch

        with torch.no_grad():
            return self._forward(self.tensor(batch)).cpu().numpy()

    def _input_gradient(self, batch, target):
        import torch

        inputs = self.tensor(batch).requires_grad_(True)
        (grad,) = torch.autograd.grad(self._forward(inputs)[:, target].sum(), inputs)
        return _channels_last(grad)

    def _activations_and_gradient(self, batch, target, layer):
        import torch

        captured = []
        hook = self._layer(layer).register_forward_hook(
            lambda module, inputs, output: captured.append(output))
        # The input requires grad so that the layer's output is in the graph even when the
        # module's parameters are frozen.
        inputs = self.tensor(batch).requires_grad_(True)
        try:
            probabilities = self._forward(inputs)
        finally:
            hook.remove()
        (grad,) = torch.autograd.grad(probabilities[:, target].sum(), captured[-1])
        return _channels_last(captured[-1]), _channels_last(grad)

    def _layer(self, layer):
        import torch

        modules = dict(self.module.named_modules())
        if layer is None:
            convolutions = [m for m in modules.values() if isinstance(m, torch.nn.Conv2d)]
            if not convolutions:
                raise ArgumentError(f"{self.description} has no torch.nn.Conv2d to take "
                                    f"activations from; pass layer=<module or name>")
            return convolutions[-1]
        if isinstance(layer, str) and layer in modules:
            return modules[layer]
        if any(layer is module for module in modules.values()):
            return layer
        raise ArgumentError(f"{layer!r} is not a submodule of {self.description}; pass one of its "
                            f"modules or their names: {[name for name in modules if name]}")


def _channels_last(tensor) -> np.ndarray:
    """An NCHW tensor -> NHWC NumPy array (other shapes unchanged)."""
    array = tensor.detach().cpu().numpy()
    return np.transpose(array, (0, 2, 3, 1)) if array.ndim == 4 else array


def as_classifier(model, input_shape: tuple | None = None, batch_size: int = 64) -> Classifier:
    """Wrap an ildl.nn ``Sequential``, a ``torch.nn.Module`` or a predict function (a
    ``Classifier`` is returned as it is). ``input_shape`` ``(H, W, C)`` lets images be checked
    against a torch module or a function (an ildl model knows its own and checks it).

    >>> classifier = as_classifier(lambda images: model.predict(images), input_shape=(32, 32, 3))
    """
    if isinstance(model, Classifier):
        return model
    if isinstance(model, Sequential):
        return SequentialClassifier(model, input_shape, batch_size)
    torch = sys.modules.get("torch")  # a torch module exists only if torch was imported
    if torch is not None and isinstance(model, torch.nn.Module):
        return TorchClassifier(model, input_shape, batch_size)
    if callable(model):
        return FunctionClassifier(model, input_shape, batch_size)
    raise ArgumentError(f"explain needs an ildl.nn Sequential, a torch.nn.Module or a function "
                        f"images (N, H, W, C) -> probabilities (N, K), but got "
                        f"{type(model).__name__}")
