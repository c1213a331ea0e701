"""What a detector training run depends on: ``TrainConfig``, its fields, defaults and valid ranges.

This module needs no torch, so a configuration can be built and checked (and the command line
built from it) without PyTorch installed. Each field carries its help text and the rule that says
which values it accepts; ``TrainConfig`` checks every field when it is made, before anything reads
or writes a file, and ``ildl detect train`` derives its options from the same fields (name, type,
default, help), so a new option is added here once::

    >>> TrainConfig("shapes/data.yaml", epochs=30).epochs
    30
    >>> TrainConfig("shapes/data.yaml", imgsz=100)    # doctest: +SKIP
    ildl.errors.ArgumentError: --imgsz 100 is not valid: imgsz must be a multiple of 32 from 32
    to 2048 (side of the square model input in pixels; ...); the nearest valid sides are 96 and 128

The output folder (``--out``) of ``train``, ``val`` and ``predict`` is checked the same way for
the three, with ``ildl.outputs``: ``check_out_folder`` before any work, ``make_out_folder`` when
it is needed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import MISSING, Field, dataclass, field, fields
from typing import Any

from ..errors import ArgumentError
from ..outputs import is_path
from ..validation import is_integer, is_number

# The detector's sizes (``model.SIZES`` holds their channels; a test keeps the two equal) and
# the stride of its coarsest feature map: the input side must divide by it, or the upsampled
# coarse map no longer matches the finer one it is concatenated with.
MODEL_SIZES = ("n", "s", "m")
LARGEST_STRIDE = 32


@dataclass(frozen=True)
class Rule:
    """The values a setting accepts: ``accepts(value)`` says whether, ``expected`` says which."""

    accepts: Callable[[Any], bool]
    expected: str


def integer(low: int, high: int | None = None, multiple_of: int = 1) -> Rule:
    """Whole numbers from ``low`` (to ``high``), optionally only multiples of ``multiple_of``."""
    def accepts(value: Any) -> bool:
        return (is_integer(value) and value >= low and (high is None or value <= high)
                and value % multiple_of == 0)

    kind = "an integer" if multiple_of == 1 else f"a multiple of {multiple_of}"
    return Rule(accepts, f"{kind} >= {low}" if high is None else f"{kind} from {low} to {high}")


def number(low: float, high: float | None = None, low_included: bool = True) -> Rule:
    """Finite numbers from ``low`` (excluded if not ``low_included``) up to ``high`` included."""
    def accepts(value: Any) -> bool:
        if not is_number(value):
            return False
        above = value >= low if low_included else value > low
        return above and (high is None or value <= high)

    start = f">= {low}" if low_included else f"> {low}"
    return Rule(accepts, f"a number {start}" + ("" if high is None else f" and <= {high}"))


def optional(rule: Rule) -> Rule:
    """``None`` (the setting is off) or a value of ``rule``."""
    return Rule(lambda value: value is None or rule.accepts(value), f"{rule.expected}, or none")


def one_of(*choices: str) -> Rule:
    return Rule(lambda value: value in choices, f"one of {', '.join(choices)}")


def matches(pattern: str, expected: str) -> Rule:
    return Rule(lambda value: isinstance(value, str) and re.fullmatch(pattern, value) is not None,
                expected)


PROBABILITY = number(0, 1)
# The model's input side: a multiple of its largest stride, and at most 2048 (larger sides cost
# S * S * 3 bytes per cached image and hours per epoch on a CPU).
LARGEST_IMGSZ = 2048
IMGSZ = integer(LARGEST_STRIDE, LARGEST_IMGSZ, multiple_of=LARGEST_STRIDE)
FLAG = Rule(lambda value: isinstance(value, bool), "true or false")
PATH = Rule(is_path, "a path")


def setting(default: Any, help: str, rule: Rule) -> Any:
    """A ``TrainConfig`` field: its default (``MISSING``: required), help text and rule."""
    return field(default=default, metadata={"help": help, "rule": rule})


@dataclass
class TrainConfig:
    """Everything a training run depends on (saved in every checkpoint).

    Every field is checked against its rule when the configuration is made (``validate``);
    ``ildl detect train --help`` lists the same fields as options (``time_limit`` ->
    ``--time-limit``).
    """

    data: str = setting(MISSING, "data.yaml of a YOLO-layout dataset", PATH)
    epochs: int = setting(60, "passes over the training images", integer(1))
    imgsz: int = setting(160, "side of the square model input in pixels; the model's largest "
                         f"stride is {LARGEST_STRIDE}",
                         IMGSZ)
    batch: int = setting(32, "images per optimizer step, summed over all processes", integer(1))
    size: str = setting("n", "model size: nano, small or medium", one_of(*MODEL_SIZES))
    # 4e-3 beat 2e-3 on the synthetic shapes (mAP@0.5 0.77 against 0.60 after 60 epochs)
    lr: float = setting(4e-3, "peak learning rate of AdamW", number(0, 1, low_included=False))
    weight_decay: float = setting(5e-4, "AdamW weight decay of the convolution weights; "
                                  "biases and batch-norm scales get none", number(0, 1))
    warmup_epochs: float = setting(2.0, "epochs of linear learning-rate warm-up before the "
                                   "cosine decay", number(0))
    # 100, as Ultralytics: on 56 aerial tiles (3 steps per epoch) a young detector's validation
    # mAP50 swung between 0.07 and 0.28 from epoch to epoch, and 20 stopped it after 3 minutes
    patience: int = setting(100, "stop early after this many epochs without a better "
                            "validation mAP50-95, counted after the warm-up once the mAP is "
                            "above 0", integer(1))
    device: str = setting("cpu", "where to train",
                          matches(r"cpu|mps|cuda(:\d+)?", "cpu, cuda, cuda:N or mps"))
    time_limit: float | None = setting(None, "minutes of training: after each epoch the "
                                       "schedule shrinks to the epochs that fit",
                                       optional(number(0, low_included=False)))
    # Ultralytics' 1.0 and 0.5: on aerial trees they lifted mAP@0.5 on photos of other sites from
    # 0.133 to 0.319 (0.5 and 0.3, tuned on the synthetic shapes, are what the shapes pass)
    mosaic: float = setting(1.0, "probability that a training image is a mosaic of four",
                            PROBABILITY)
    # scale 1 could draw a zoom of 0 (the zoom is drawn from 1 - scale to 1 + scale)
    scale: float = setting(0.5, "zoom range: each training image is zoomed by 1 +- scale",
                           number(0, 0.9))
    flipud: float = setting(0.0, "probability of an up-down flip, for scenes with no 'up'",
                            PROBABILITY)
    close_mosaic: int = setting(10, "last epochs without mosaic, to finish on whole, uncut "
                                "scenes", integer(0))
    strict: bool = setting(False, "stop at the first bad label or image; by default it is "
                           "skipped and counted", FLAG)
    out: str = setting("runs/detect", "folder of the run's checkpoints (best.pt, last.pt)", PATH)
    seed: int = setting(0, "seed of the initial weights, the shuffling and the augmentation",
                        integer(0, 2**32 - 1))
    workers: int = setting(0, "DataLoader worker processes; 0 loads in the training process",
                           integer(0, 256))

    def __post_init__(self) -> None:
        # Paths may be given as pathlib.Path; the checkpoint stores plain strings.
        for name in ("data", "out"):
            value = getattr(self, name)
            if isinstance(value, os.PathLike):
                setattr(self, name, os.fspath(value))
        self.validate()

    def validate(self) -> None:
        """Raise ``ArgumentError`` for the first field outside its rule (the message names the
        option, the value, what is accepted and the default)."""
        for setting_field in fields(self):
            value = getattr(self, setting_field.name)
            rule: Rule = setting_field.metadata["rule"]
            if not rule.accepts(value):
                raise ArgumentError(_invalid_setting_message(setting_field, value))


def option_name(name: str) -> str:
    """The command-line option of a field: ``time_limit`` -> ``--time-limit``."""
    return "--" + name.replace("_", "-")


def _invalid_setting_message(setting_field: Field, value: Any) -> str:
    """Why ``value`` does not fit ``setting_field``: the option, the rule and how to fix it."""
    name, rule, help = (setting_field.name, setting_field.metadata["rule"],
                        setting_field.metadata["help"])
    fix = ("it is required" if setting_field.default is MISSING
           else "leave it out for none" if setting_field.default is None
           else f"the default is {setting_field.default}")
    if name == "imgsz" and is_number(value) and 0 < value <= LARGEST_IMGSZ:
        below = max(LARGEST_STRIDE, int(value) // LARGEST_STRIDE * LARGEST_STRIDE)
        fix = f"the nearest valid sides are {below} and {below + LARGEST_STRIDE}"
    return (f"{option_name(name)} {value!r} is not valid: {name} must be {rule.expected} "
            f"({help}); {fix}")
