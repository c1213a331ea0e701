"""One interface to any image classifier: an ildl.nn ``Sequential``, a ``torch.nn.Module``, an
ONNX file (through onnxruntime) or a bare predict function ``f(images (N, H, W, C)) ->
probabilities (N, K)``.

Every explainer talks to a ``Classifier``: ``predict`` for probabilities, and for models that can
be differentiated, ``input_gradient`` and ``activations_and_gradient`` of one class's
probability. Images are always NumPy, channels last; a torch module gets them as NCHW tensors
(stored channels last, which is also the faster layout for its convolutions on a CPU). A
classifier may carry its ``preprocessing`` (crop, resize, per-channel normalisation, applied
inside it, so explainers work on pixels in [0, 1]) and its ``class_names``. It counts
``evaluations``: images the model ran on (a forward pass, or a forward and a backward pass), the
cost measure of every explainer::

    >>> classifier = as_classifier(model)
    >>> classifier.predict(images).shape          # (N, K), every row checked to be probabilities
    >>> classifier.input_gradient(images, target=3).shape     # (N, H, W, C): d p_3 / d images
"""

from __future__ import annotations

import dataclasses
import itertools
import os
from collections.abc import Callable, Sequence

import numpy as np

from ..errors import ArgumentError, ModelFileError
from ..nn import Conv2D, Sequential
from ..nn.activations import softmax
from ..validation import did_you_mean
from .checks import check_image, check_probabilities
from .preprocessing import Preprocessing

# What a model returns: probabilities as they are, or logits that a softmax turns into them.
OUTPUTS = ("probabilities", "logits")


class Classifier:
    """A model seen as ``images (N, H, W, C) -> probabilities (N, K)``, run in batches.

    ``input_shape`` is ``(H, W, C)`` with None where the model accepts any size; ``evaluations``
    counts the images evaluated so far. ``preprocessing`` (None: images go in as they are) says
    how ``prepare`` turns a photo into the model's image and how images are normalised before
    the model; ``class_names`` name the K outputs. Subclasses compute one batch in
    ``_probabilities`` (and, when ``has_gradients``, ``_input_gradient`` and
    ``_activations_and_gradient``).

    >>> classifier = as_classifier(model, batch_size=32)
    >>> classifier.predict(images); classifier.evaluations          # len(images)
    """

    has_gradients = False

    def __init__(self, description: str, input_shape: tuple, batch_size: int = 64,
                 preprocessing: Preprocessing | None = None,
                 class_names: Sequence[str] | None = None):
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ArgumentError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.description = description
        self.input_shape = tuple(input_shape)
        self.batch_size = batch_size
        self.preprocessing = preprocessing
        self.class_names = None if class_names is None else tuple(class_names)
        self.evaluations = 0

    def prepare(self, photo) -> np.ndarray:
        """The image ``(H, W, C)`` float64 the explainers work on: a photo cropped and resized
        by the classifier's ``preprocessing`` (pixels in [0, 1]), else the image as given,
        checked against ``input_shape``."""
        if self.preprocessing is not None:
            photo = self.preprocessing.crop_and_resize(photo)
        return check_image(photo, self.input_shape)

    def class_name(self, index: int) -> str:
        """The name of output ``index`` (``"class 3"`` when the classifier has no names)."""
        if self.class_names is None or not 0 <= index < len(self.class_names):
            return f"class {index}"
        return self.class_names[index]

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

    def _normalized(self, batch: np.ndarray) -> np.ndarray:
        """The batch as the model takes it: ``(x - mean) / std`` when there is preprocessing."""
        return batch if self.preprocessing is None else self.preprocessing.normalize(batch)

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
                 batch_size: int = 64, preprocessing: Preprocessing | None = None,
                 class_names: Sequence[str] | None = None):
        name = getattr(predict, "__name__", type(predict).__name__)
        super().__init__(f"the predict function {name!r}", input_shape or (None, None, None),
                         batch_size, preprocessing, class_names)
        self.function = predict

    def _probabilities(self, batch):
        return self.function(self._normalized(batch))


class SequentialClassifier(Classifier):
    """An ildl.nn ``Sequential`` ending in a softmax; gradients through its own backward pass.

    >>> classifier = SequentialClassifier(model)      # model.input_shape == (H, W, C)
    """

    has_gradients = True

    def __init__(self, model: Sequential, input_shape: tuple | None = None,
                 batch_size: int = 64, preprocessing: Preprocessing | None = None,
                 class_names: Sequence[str] | None = None):
        if not model.built:
            raise ArgumentError(f"the ildl model {model.name!r} is not built yet; give its first "
                                f"layer an input_shape, or call model.build((H, W, C))")
        if input_shape is not None and tuple(input_shape) != model.input_shape:
            raise ArgumentError(f"input_shape={tuple(input_shape)} was given but the ildl model "
                                f"{model.name!r} takes inputs of shape {model.input_shape}; leave "
                                f"input_shape out (the model knows its own)")
        super().__init__(f"the ildl model {model.name!r}", model.input_shape, batch_size,
                         preprocessing, class_names)
        self.model = model

    def _probabilities(self, batch):
        return self.model.predict(self._normalized(batch), batch_size=len(batch))

    def _one_hot(self, rows: int, target: int) -> np.ndarray:
        """Output gradient that selects ``p_target`` in every row."""
        weights = np.zeros((rows, *self.model.output_shape))
        weights[:, target] = 1
        return weights

    def _input_gradient(self, batch, target):
        grad = self.model.input_gradient(self._normalized(batch),
                                         self._one_hot(len(batch), target))
        # chain rule through (x - mean) / std
        return grad if self.preprocessing is None else grad / np.asarray(self.preprocessing.std)

    def _activations_and_gradient(self, batch, target, layer):
        return self.model.activations_and_gradient(self._normalized(batch), self._layer(layer),
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
    """A ``torch.nn.Module`` taking NCHW images; gradients by autograd. ``outputs`` says whether
    it returns ``"probabilities"`` or ``"logits"`` (then a softmax makes them probabilities).
    The module is put in eval mode (dropout off, batch-norm running statistics), as for any
    prediction; images are sent in the dtype and on the device of its parameters, normalised by
    ``preprocessing`` when given (inside the graph: gradients are with respect to the pixels).
    ``layer`` is the default layer of Grad-CAM (None: the last ``Conv2d``).

    >>> classifier = TorchClassifier(torch.nn.Sequential(net, torch.nn.Softmax(dim=1)))
    >>> classifier = TorchClassifier(resnet, outputs="logits", preprocessing=Preprocessing(224))
    """

    has_gradients = True

    def __init__(self, module, input_shape: tuple | None = None, batch_size: int = 64, *,
                 outputs: str = "probabilities", preprocessing: Preprocessing | None = None,
                 class_names: Sequence[str] | None = None, layer=None,
                 description: str | None = None):
        import torch

        if outputs not in OUTPUTS:
            raise ArgumentError(f"outputs must be one of {OUTPUTS}, got {outputs!r}")
        first_conv = next((m for m in module.modules() if isinstance(m, torch.nn.Conv2d)), None)
        channels = None if first_conv is None else first_conv.in_channels
        if input_shape is None and preprocessing is not None and preprocessing.size:
            input_shape = (preprocessing.size, preprocessing.size, channels)
        super().__init__(description or f"the torch module {type(module).__name__}",
                         input_shape or (None, None, channels), batch_size, preprocessing,
                         class_names)
        self.module = module.eval()
        self.outputs = outputs
        self.layer = layer
        parameter = next(module.parameters(), None)
        self.dtype = torch.float32 if parameter is None else parameter.dtype
        self.device = "cpu" if parameter is None else parameter.device

    def tensor(self, images: np.ndarray):
        """NHWC NumPy images -> an NCHW tensor the module can take (a view of channels-last
        memory, normalised by the preprocessing)."""
        import torch

        nhwc = torch.as_tensor(np.ascontiguousarray(images), dtype=self.dtype,
                               device=self.device)
        return nhwc.permute(0, 3, 1, 2)

    def _forward(self, inputs):
        """Probabilities of NCHW pixel ``inputs``: normalise, run the module, softmax logits."""
        import torch

        if self.preprocessing is not None:
            shape = (1, -1, 1, 1)
            mean = torch.tensor(self.preprocessing.mean, dtype=self.dtype, device=self.device)
            std = torch.tensor(self.preprocessing.std, dtype=self.dtype, device=self.device)
            inputs = (inputs - mean.reshape(shape)) / std.reshape(shape)
        try:
            outputs = self.module(inputs)
        except RuntimeError as error:
            raise ArgumentError(f"{self.description} failed on images sent as an NCHW tensor of "
                                f"shape {tuple(inputs.shape)}: {error}. Check that the image has "
                                f"the size and channels the module was made for") from error
        return torch.softmax(outputs, dim=1) if self.outputs == "logits" else outputs

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
        layer = self.layer if layer is None else layer
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
        names = [name for name in modules if name]
        typo = did_you_mean(layer, names) if isinstance(layer, str) else ""
        raise ArgumentError(f"{layer!r} is not a submodule of {self.description}{typo}; pass "
                            f"one of its modules or their names: {_layer_names(names)}")


def _layer_names(names: list[str]) -> str:
    """The names of a module's submodules, briefly (a network has hundreds): those at most two
    levels deep, numbered runs shortened to ``blocks.0 ... blocks.15``."""
    shallow = [name for name in names if name.count(".") <= 1]

    def run_key(name: str) -> tuple[str, bool]:  # numbered siblings share their parent's key
        parent, _, last = name.rpartition(".")
        return (parent, True) if last.isdigit() else (name, False)

    shown = []
    for _, run in itertools.groupby(shallow, run_key):
        run = list(run)
        shown += run if len(run) < 3 else [f"{run[0]} ... {run[-1]}"]
    deeper = [name for name in names if name.count(".") > 1]
    return ", ".join(shown) + (f" (and {len(deeper)} deeper ones, e.g. {deeper[-1]!r})"
                               if deeper else "")


class OnnxClassifier(Classifier):
    """An ONNX file run by onnxruntime: a black box (predictions only; gradient methods refuse
    it). Its first input is taken as NCHW images (NHWC when its last axis has 1 or 3 channels
    and its second does not); ``outputs`` as for ``TorchClassifier``. A file with a fixed
    square input size resizes photos to that size (whatever ``preprocessing.size`` says: it
    takes no other). A file whose batch axis is fixed runs batches of exactly that many images
    (the last one filled up with copies, whose outputs are dropped).

    >>> classifier = OnnxClassifier("resnet18.onnx", outputs="logits",
    ...                             preprocessing=Preprocessing(224))
    """

    def __init__(self, path: str, batch_size: int = 64, *, outputs: str = "probabilities",
                 preprocessing: Preprocessing | None = None,
                 class_names: Sequence[str] | None = None):
        from ..optional import require

        onnxruntime = require("onnxruntime", f"explaining the ONNX file {path!r}",
                              extra="classifiers")
        if outputs not in OUTPUTS:
            raise ArgumentError(f"outputs must be one of {OUTPUTS}, got {outputs!r}")
        try:
            self.session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime raises its own exception types
            raise ModelFileError(f"onnxruntime cannot load {path!r} ({type(error).__name__}: "
                                 f"{error}); pass a valid .onnx file") from None
        graph_input = self.session.get_inputs()[0]
        shape = [size if isinstance(size, int) else None for size in graph_input.shape]
        if len(shape) != 4:
            raise ArgumentError(f"the ONNX file {path!r} takes inputs of shape "
                                f"{graph_input.shape}, not a batch of images (N, C, H, W)")
        self.channels_last = shape[3] in (1, 3) and shape[1] not in (1, 3)
        height, width, channels = shape[1:] if self.channels_last else (*shape[2:], shape[1])
        if preprocessing is not None and height == width and height is not None:
            preprocessing = dataclasses.replace(preprocessing, size=height)
        self.fixed_batch = shape[0]
        super().__init__(f"the ONNX file {os.path.basename(path)!r}",
                         (height, width, channels), self.fixed_batch or batch_size,
                         preprocessing, class_names)
        self.input_name = graph_input.name
        self.input_type = np.float64 if graph_input.type == "tensor(double)" else np.float32
        self.outputs = outputs

    def _probabilities(self, batch):
        images = self._normalized(batch).astype(self.input_type)
        if not self.channels_last:
            images = np.ascontiguousarray(images.transpose(0, 3, 1, 2))
        rows = len(images)
        if self.fixed_batch is not None and rows < self.fixed_batch:
            images = np.concatenate([images, np.repeat(images[-1:], self.fixed_batch - rows, 0)])
        try:
            outputs = self.session.run(None, {self.input_name: images})[0]
        except Exception as error:  # onnxruntime raises its own exception types
            raise ArgumentError(f"{self.description} failed on images sent as an array of shape "
                                f"{images.shape} ({type(error).__name__}: {error}). Check that "
                                f"the images have the size and channels the model was made "
                                f"for") from None
        outputs = np.asarray(outputs, dtype=np.float64)[:rows]
        return softmax(outputs) if self.outputs == "logits" else outputs


def _channels_last(tensor) -> np.ndarray:
    """An NCHW tensor -> NHWC NumPy array (other shapes unchanged)."""
    array = tensor.detach().cpu().numpy()
    return np.transpose(array, (0, 2, 3, 1)) if array.ndim == 4 else array
