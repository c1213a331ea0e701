"""Learning-rate schedule and weight averaging used by detector training.

* ``warmup_cosine``: the learning rate climbs linearly from ~0 during the first ``warmup_steps``
  (large early gradients of a fresh detector would otherwise wreck its batch-norm statistics),
  then follows half a cosine down to ``final_fraction`` of its peak.
* ``ModelEMA``: an exponential moving average of the weights, ``ema = d * ema + (1 - d) * w``,
  evaluated and saved instead of the raw weights: it averages out the noise of the last steps and
  usually scores a few points higher. ``d`` ramps up from 0 so early averages are not dominated
  by the random initialisation.
"""

from __future__ import annotations

import copy
import math

import torch


def warmup_cosine(step: int, total_steps: int, warmup_steps: int,
                  final_fraction: float = 0.05) -> float:
    """Multiplier of the peak learning rate at optimizer step ``step`` (0-based)."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return final_fraction + (1 - final_fraction) * 0.5 * (1 + math.cos(math.pi * min(progress, 1)))


class ModelEMA:
    """Exponential moving average of a model's parameters and buffers (batch-norm statistics)."""

    def __init__(self, model: torch.nn.Module, decay: float = 0.999, ramp: float = 500.0):
        self.model = copy.deepcopy(model).eval()
        for parameter in self.model.parameters():
            parameter.requires_grad_(False)
        self.decay = decay
        self.ramp = ramp
        self.updates = 0

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        self.updates += 1
        decay = self.decay * (1 - math.exp(-self.updates / self.ramp))
        current = model.state_dict()
        for name, average in self.model.state_dict().items():
            if average.dtype.is_floating_point:
                average.mul_(decay).add_(current[name].detach(), alpha=1 - decay)
            else:  # counters such as num_batches_tracked
                average.copy_(current[name])
