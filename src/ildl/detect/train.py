"""Train a detector: ``ildl detect train --data data.yaml --epochs 60``.

One epoch: shuffled, augmented batches -> loss -> AdamW step (learning rate warming up then
following a cosine) -> EMA of the weights. After each epoch the EMA weights are evaluated on the
validation split (mAP@0.5:0.95 and mAP@0.5 in the COCO definition, ``metrics.py``), and
``<out>/last.pt`` and, when validation improved, ``<out>/best.pt`` are written atomically
(``checkpoint.py``: a SHA-256 digest, read back with ``weights_only=True``). Training stops early
when validation mAP has not improved for ``patience`` epochs, counted once the learning-rate
warm-up is over and the model finds something (a validation mAP above 0): on a small real dataset
an epoch can be a single optimizer step, and a detector from scratch scores 0 for its first few
dozen steps, so counting from the first epoch stopped training before it began (21 epochs of one
step each, at mAP 0, on 36 aerial tiles of trees); ``resume=True`` continues from
``last.pt`` exactly where it stopped (weights, EMA, optimizer, schedule, epoch).

The run folder also shows what training did (``run_report.py``, Ultralytics' files):
``args.yaml``, ``results.csv`` and ``results.png`` (one row, one point per epoch), the first
training batches and validation images with their boxes drawn.

What a run depends on is a ``TrainConfig`` (``config.py``), checked before anything is read or
written. An ``out`` folder that already holds a run is never silently replaced: pass ``resume``
to continue it or ``overwrite`` to start again in it.

Several processes (data parallel): launched with ``torchrun --nproc_per_node 2 -m ildl.cli detect
train ...``, each process trains a copy of the model on its own share of every batch (``batch``
is the total over processes), ``DistributedDataParallel`` averages the gradients so all copies
stay equal, and process 0 writes the checkpoints and the log. CPUs talk through the "gloo" backend.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, fields, replace

import torch

from ..errors import (
    ArgumentError,
    MissingFileError,
    ModelFileError,
    OverwriteError,
    TrainingError,
    UsageError,
)
from ..outputs import check_out_folder, make_out_folder
from ..progress import ProgressBar, format_seconds
from .advice import training_advice
from .augment import Augment
from .boxes import cxcywh_to_xyxy_torch
from .checkpoint import (
    check_classes,
    classes_in_words,
    detector_entries,
    is_state_dict,
    load_checkpoint,
    load_detector,  # noqa: F401 (it lived here before: still importable)
    load_weights,
    save_checkpoint,
)
from .config import TrainConfig  # it lived here before: ildl.detect.train.TrainConfig works
from .data_yaml import load_data_yaml
from .dataset import DetectionDataset, collate
from .inference import MAX_DETECTIONS
from .loss import DetectionLoss
from .metrics import DetectionEvaluator
from .model import Detector
from .nms import decode
from .run_report import (
    REPORT_FILES,
    TRAIN_BATCHES,
    write_args,
    write_results,
    write_train_batch,
    write_val_batch,
)
from .schedule import ModelEMA, warmup_cosine

RUN_FILES = ("best.pt", "last.pt")
# What --resume needs besides the weights (checkpoints of older versions may lack some).
TRAINING_STATE = ("model", "optimizer", "ema_updates", "epoch", "best_map", "epochs_without_gain",
                  "history", "schedule_epochs", "minutes")


def _device(name: str) -> torch.device:
    device = torch.device(name)
    present = {"cuda": (torch.cuda.is_available, "CUDA GPU"),
               "mps": (torch.backends.mps.is_available, "MPS (Apple GPU) device")}
    if device.type in present and not present[device.type][0]():
        raise UsageError(f"device {name!r} was asked for but this PyTorch sees no "
                         f"{present[device.type][1]} (torch {torch.__version__}); use --device "
                         "cpu")
    return device


def _check_run_folder(out: str, resume: bool, overwrite: bool) -> None:
    """Refuse an ``out`` that would lose earlier results: a file, or a folder holding a run
    (best.pt or last.pt) unless ``resume`` (continue it) or ``overwrite`` (replace it)."""
    check_out_folder(out, "the run needs a folder for best.pt and last.pt")
    last = os.path.join(out, "last.pt")
    if resume:
        if not os.path.exists(last):
            raise MissingFileError(f"nothing to resume: there is no {last}; leave out --resume "
                                   f"to start a new run in {out}")
        return
    earlier = [name for name in RUN_FILES if os.path.exists(os.path.join(out, name))]
    if earlier and not overwrite:
        raise OverwriteError(f"{out} already holds a training run ({', '.join(earlier)}); pass "
                             "--resume to continue it, --overwrite to replace it, or choose "
                             "another --out")


def distributed_rank_and_size() -> tuple[int, int]:
    """(rank, world size) of this process as torchrun sets them; (0, 1) when run alone."""
    return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))


def _param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    # Weight decay shrinks weights towards 0; for biases and batch-norm scales that only hurts.
    decayed = [p for name, p in model.named_parameters() if p.ndim > 1]
    plain = [p for name, p in model.named_parameters() if p.ndim <= 1]
    return [{"params": decayed, "weight_decay": weight_decay},
            {"params": plain, "weight_decay": 0.0}]


@torch.no_grad()
def evaluate(model: Detector, dataset: DetectionDataset, batch: int = 32,
             score_threshold: float = 0.001, max_detections: int = MAX_DETECTIONS):
    """COCO metrics of ``model`` on ``dataset`` (a low score threshold, as mAP needs the whole
    precision-recall curve). Up to ``max_detections`` (300) detections per image count, as in
    Ultralytics' validation, not COCO's 100: an aerial tile can hold more than 100 trees."""
    if model.num_classes != len(dataset.names):
        raise ArgumentError(f"the detector finds {model.num_classes} classes but the dataset has "
                            f"{classes_in_words(dataset.names)}; evaluate it on data with the "
                            "classes it was trained on")
    model.eval()
    device = next(model.parameters()).device
    evaluator = DetectionEvaluator(dataset.names, max_detections=max_detections)
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch, collate_fn=collate)
    for images, targets in loader:
        detections = decode(model(images.to(device)), model.strides,
                            score_threshold=score_threshold, max_detections=max_detections)
        for index, found in enumerate(detections):
            rows = targets[targets[:, 0] == index]
            # Converted as the loss converts them (torch, float32): validation sees the same boxes.
            truth = {"boxes": cxcywh_to_xyxy_torch(rows[:, 2:6] * dataset.imgsz).numpy(),
                     "classes": rows[:, 1].long().numpy()}
            evaluator.add({name: value.cpu().numpy() for name, value in found.items()}, truth)
    return evaluator.compute()


class Trainer:
    """Holds the run's state; ``run()`` trains to the end (or early stop) and returns metrics."""

    def __init__(self, config: TrainConfig, resume: bool = False, verbose: bool = True,
                 overwrite: bool = False):
        config.validate()  # again: its fields may have been changed since it was made
        self.config = config
        self.last_path = os.path.join(config.out, "last.pt")
        self.best_path = os.path.join(config.out, "best.pt")
        _check_run_folder(config.out, resume, overwrite)
        data = load_data_yaml(config.data)  # read once, for both splits
        resumed = self._resumable(data.names) if resume else None
        torch.manual_seed(config.seed)
        self.rank, self.world_size = distributed_rank_and_size()
        if self.world_size > 1 and not torch.distributed.is_initialized():
            torch.distributed.init_process_group("gloo")
        if config.batch % self.world_size:
            raise ArgumentError(f"--batch {config.batch} must divide evenly over "
                                f"{self.world_size} processes")
        self.verbose = verbose and self.rank == 0
        self.device = _device(config.device)
        augment = Augment(mosaic=config.mosaic, scale=config.scale, flipud=config.flipud)
        # val first: a split it refuses (no image, no object) is refused before the larger
        # train split is decoded and cached
        self.val_set = DetectionDataset(data, "val", config.imgsz, strict=config.strict,
                                        cache=True)
        self.train_set = DetectionDataset(data, "train", config.imgsz, augment,
                                          strict=config.strict, seed=config.seed, cache=True)
        if self.verbose:
            print(self.train_set.format_summary() + "\n" + self.val_set.format_summary())
            for line in training_advice(self.train_set.split, config.imgsz, config.batch):
                print(f"advice: {line}")
        self.names = self.train_set.names
        self.model = Detector(len(self.names), config.size).to(self.device)
        self.ema = ModelEMA(self.model)
        self.optimizer = torch.optim.AdamW(_param_groups(self.model, config.weight_decay),
                                           lr=config.lr)
        self.loss = DetectionLoss(len(self.names), self.model.strides)
        # The copy that trains: wrapped for several processes, the model itself otherwise.
        self.network = self.model if self.world_size == 1 else \
            torch.nn.parallel.DistributedDataParallel(self.model)
        self.start_epoch, self.best, self.epochs_without_gain = 0, -1.0, 0
        self.epochs = config.epochs  # the schedule's length; a time limit can shorten it
        self.minutes_before = 0.0  # training time of the runs this one resumes
        self.history: list[dict] = []
        if resumed is not None:
            self._resume(resumed)
        elif overwrite and self.rank == 0:  # the replaced run must not leave a stale best.pt
            for name in RUN_FILES + REPORT_FILES:
                if os.path.exists(os.path.join(config.out, name)):
                    os.remove(os.path.join(config.out, name))
        make_out_folder(config.out)
        if self.rank == 0:
            write_args(config.out, config)

    def _resumable(self, names: list[str]) -> dict:
        """last.pt, if this run can continue it: a detector of this size and these class
        ``names``, with the training state; checked before any image is read."""
        path, checkpoint = self.last_path, load_checkpoint(self.last_path)
        size = checkpoint["model_config"]["size"]
        if size != self.config.size:
            raise ArgumentError(f"cannot resume {path}: it was trained with --size {size} and "
                                f"this run asks for --size {self.config.size}; pass --size "
                                f"{size} to resume it, or choose another --out")
        check_classes(checkpoint, names, path, self.config.data,
                      fix="resume with the data it was trained on, or choose another --out")
        missing = [key for key in TRAINING_STATE if key not in checkpoint]
        if missing:
            raise ModelFileError(f"cannot resume {path}: it has no {', '.join(missing)} (written "
                                 "by an older ildl); it still serves val, predict and export: "
                                 "start a new run with another --out, or with --overwrite")
        if not is_state_dict(checkpoint["model"]):
            raise ModelFileError(f"cannot resume {path}: its 'model' entry is not a state_dict "
                                 "of tensors; the file was edited or written by another program")
        return checkpoint

    def _resume(self, checkpoint: dict) -> None:
        """Continue from ``checkpoint`` (last.pt, checked by ``_resumable``)."""
        path = self.last_path
        load_weights(self.model, checkpoint["model"], path, "model")
        load_weights(self.ema.model, checkpoint["ema"], path, "ema")
        try:
            self.optimizer.load_state_dict(checkpoint["optimizer"])
        except (ValueError, KeyError, TypeError, RuntimeError) as error:
            raise ModelFileError(f"cannot resume {path}: its optimizer state does not fit this "
                                 f"model ({type(error).__name__}: {error})") from None
        try:
            self.ema.updates = int(checkpoint["ema_updates"])
            self.start_epoch = int(checkpoint["epoch"]) + 1
            self.best = float(checkpoint["best_map"])
            self.epochs_without_gain = int(checkpoint["epochs_without_gain"])
            self.history = list(checkpoint["history"])
            if not all(isinstance(entry, dict) for entry in self.history):
                raise TypeError("its history is not a list of epoch records")
            schedule_epochs = int(checkpoint["schedule_epochs"])
            self.minutes_before = float(checkpoint["minutes"])
        except (TypeError, ValueError) as error:  # an edited file with a digest made anew
            raise ModelFileError(f"cannot resume {path}: its training state is not numbers "
                                 f"({error})") from None
        if self.config.time_limit is not None:  # keep the schedule fitted so far
            self.epochs = min(self.config.epochs, schedule_epochs)
        if self.verbose:
            print(f"resuming {path} after epoch {self.start_epoch}")

    def _checkpoint(self, epoch: int) -> dict:
        return {**detector_entries(self.ema.model, self.names, asdict(self.config)),
                "model": self.model.state_dict(), "ema_updates": self.ema.updates,
                "optimizer": self.optimizer.state_dict(), "epoch": epoch, "best_map": self.best,
                "epochs_without_gain": self.epochs_without_gain, "history": self.history,
                "schedule_epochs": self.epochs, "minutes": self._minutes()}

    def _train_epoch(self, epoch: int, loader, steps_per_epoch: int) -> dict:
        self.model.train()
        self.train_set.set_epoch(epoch)
        if isinstance(loader.sampler, torch.utils.data.DistributedSampler):
            loader.sampler.set_epoch(epoch)  # each epoch its own shuffle, the same in every process
        if epoch >= self.epochs - self.config.close_mosaic:
            self.train_set.augment = replace(self.train_set.augment, mosaic=0.0)
        total_steps = self.epochs * steps_per_epoch
        warmup = int(self.config.warmup_epochs * steps_per_epoch)
        bar = ProgressBar(steps_per_epoch, f"epoch {epoch + 1}/{self.epochs}",
                          interactive=None if self.verbose else False)
        sums = {"box": 0.0, "obj": 0.0, "cls": 0.0}
        for step, (images, targets) in enumerate(loader):
            if epoch == 0 and step < TRAIN_BATCHES and self.rank == 0:
                write_train_batch(self.config.out, step, images, targets, self.names)
            factor = warmup_cosine(epoch * steps_per_epoch + step, total_steps, warmup)
            for group in self.optimizer.param_groups:
                group["lr"] = self.config.lr * factor
            images, targets = images.to(self.device), targets.to(self.device)
            loss, parts = self.loss(self.network(images), targets, self.config.imgsz)
            if not torch.isfinite(loss):
                raise TrainingError(f"the loss became {float(loss)} at epoch {epoch + 1}, "
                                    f"batch {step + 1}; lower --lr (now {self.config.lr})")
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), 10.0)
            self.optimizer.step()
            self.ema.update(self.model)
            for name, value in parts.items():
                sums[name] += value
            means = {name: value / (step + 1) for name, value in sums.items()}
            bar.update(step + 1, (step + 1) * self.config.batch, means)
        if self.verbose:
            bar.finish(steps_per_epoch, len(self.train_set), means)
        return means

    def _train_loader(self):
        """Shuffled batches; with several processes each gets an equal, disjoint share."""
        per_process = self.config.batch // self.world_size
        drop_last = len(self.train_set) > self.config.batch
        if self.world_size == 1:
            return torch.utils.data.DataLoader(
                self.train_set, batch_size=per_process, shuffle=True, collate_fn=collate,
                num_workers=self.config.workers, drop_last=drop_last,
                generator=torch.Generator().manual_seed(self.config.seed))
        sampler = torch.utils.data.DistributedSampler(
            self.train_set, self.world_size, self.rank, shuffle=True, seed=self.config.seed,
            drop_last=True)
        return torch.utils.data.DataLoader(self.train_set, batch_size=per_process,
                                           sampler=sampler, collate_fn=collate,
                                           num_workers=self.config.workers, drop_last=drop_last)

    def _minutes(self) -> float:
        """Training time so far, including the runs this one resumed."""
        return self.minutes_before + (time.perf_counter() - self._start) / 60

    def _fit_schedule_to_time_limit(self, epochs_done: int) -> None:
        """Shorten the schedule to the epochs that fit the time limit at the pace so far, as
        Ultralytics' ``time`` does: the learning rate still reaches the end of its cosine and
        the last ``close_mosaic`` epochs still happen, rather than training being cut mid-way."""
        pace = self._minutes() / epochs_done
        fitting = torch.tensor(max(epochs_done, min(self.config.epochs,
                                                    int(self.config.time_limit / pace))))
        if self.world_size > 1:  # clocks differ a little: all processes follow process 0
            torch.distributed.broadcast(fitting, src=0)
        self.epochs = int(fitting)

    def run(self) -> dict:
        """Train; returns the best validation metrics and the checkpoint paths.

        With ``time_limit`` (minutes), after every epoch the schedule is shortened to the
        epochs that fit at the pace so far (never below the epochs done, never above
        ``epochs``): an epoch that ends past the limit is the last.
        """
        loader = self._train_loader()
        steps_per_epoch = len(loader)
        self._start = time.perf_counter()
        epoch = self.start_epoch
        if epoch >= self.epochs and self.verbose:
            print(f"nothing to train: {self.last_path} has done {epoch} of --epochs "
                  f"{self.epochs}; pass a larger --epochs to continue it")
        while epoch < self.epochs:
            losses = self._train_epoch(epoch, loader, steps_per_epoch)
            metrics = evaluate(self.ema.model, self.val_set)
            self.history.append({"epoch": epoch + 1, **losses, "map50": metrics.map50,
                                 "map50_95": metrics.map50_95,
                                 "precision": metrics.mean_precision,
                                 "recall": metrics.mean_recall,
                                 "lr": [group["lr"] for group in self.optimizer.param_groups],
                                 "time": self._minutes() * 60})
            improved = metrics.map50_95 > self.best
            self.best = max(self.best, metrics.map50_95)
            waiting = self.best > 0 and epoch + 1 >= self.config.warmup_epochs
            self.epochs_without_gain = 0 if improved or not waiting else \
                self.epochs_without_gain + 1
            if self.config.time_limit is not None:
                self._fit_schedule_to_time_limit(epoch + 1)
            if self.rank == 0:  # every process holds the same weights; one writes them
                state = self._checkpoint(epoch)
                save_checkpoint(self.last_path, state)
                if improved:
                    save_checkpoint(self.best_path, state)
                write_results(self.config.out, self.history)
            if self.verbose:
                print(f"  val: mAP50 {metrics.map50:.3f}  mAP50-95 {metrics.map50_95:.3f}  "
                      f"(best {self.best:.3f}; {format_seconds(self._minutes() * 60)} so far)")
            epoch += 1
            if self.epochs_without_gain >= self.config.patience:
                if self.verbose:
                    print(f"early stop: no gain in mAP50-95 for {self.config.patience} epochs")
                break
        if self.rank == 0 and self.history:  # the best weights on the first val images
            weights = self.best_path if os.path.exists(self.best_path) else self.last_path
            write_val_batch(self.config.out, load_detector(weights)[0], self.val_set,
                            self.names)
        # Name only files that exist: with a NaN validation mAP, best.pt is never written.
        return {"best_map50_95": self.best, "history": self.history, "minutes": self._minutes(),
                **{kind: path if os.path.exists(path) else None
                   for kind, path in (("last", self.last_path), ("best", self.best_path))}}


def train(data: str, **options) -> dict:
    """Train a detector on ``data`` (a data.yaml); options are the fields of ``TrainConfig``
    plus ``resume`` (continue the run in ``out``), ``overwrite`` (replace it) and ``verbose``.

    Returns ``best_map50_95``, ``history`` (one dict per epoch), ``minutes``, and the paths
    ``best`` and ``last`` of the checkpoints (``None`` for one that was never written).

    >>> result = train("shapes/data.yaml", epochs=30, out="runs/shapes")   # doctest: +SKIP
    """
    run_options = {name: options.pop(name) for name in ("resume", "overwrite", "verbose")
                   if name in options}
    known = [setting.name for setting in fields(TrainConfig)]
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ArgumentError(f"train() got unknown option(s) {', '.join(unknown)}; it takes "
                            f"{', '.join(known[1:])}, resume, overwrite and verbose")
    return Trainer(TrainConfig(data=data, **options), **run_options).run()
