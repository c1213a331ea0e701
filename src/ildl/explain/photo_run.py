"""``explain_photos``: why did the classifier say that about my photos? What ``ildl explain
image`` runs: for each photo, every method's heat map for its top classes (or chosen ones),
drawn as one figure and recorded in a JSON file (``ildl.explain.report``).

Every argument is checked before any map is made, and nothing earlier is written over unless
``overwrite``. A default method that cannot run here (its optional package is missing, the
model gives no gradients) is left out with a note; one asked for by name is an error. The work
is long on a real network, so it is timed before it is done: every method runs first on the
first photo's first class, and those times estimate the rest::

    >>> records = explain_photos(["cat.jpg"], methods=["gradcam", "occlusion"], top=2)
    >>> [(row["method"], row["name"]) for row in records[0]["maps"]]
    [('gradcam', 'tabby'), ('occlusion', 'tabby'), ('gradcam', 'tiger cat'), ...]
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ArgumentError
from ..graphics import check_theme
from ..outputs import check_new_files, check_out_folder, make_out_folder
from ..progress import ProgressBar
from ..validation import did_you_mean, is_integer
from ..viz.explanations import map_seconds
from .compare import check_methods, import_modules, method_unavailable, top_classes
from .explanation import Explanation
from .methods import explain
from .models import Classifier, SequentialClassifier, TorchClassifier
from .photos import read_photo
from .report import PhotoReport, report_files
from .sources import as_classifier

#: The methods shown unless others are asked for: the collection's article compared Grad-CAM,
#: LIME and SHAP; integrated gradients and occlusion localise best in ``ildl explain bench``
#: (pointing game and energy in the mask). Saliency and RISE come on request.
DEFAULT_METHODS = ("gradcam", "integrated_gradients", "occlusion", "lime", "shap")
DEFAULT_MODEL = "efficientnet-lite0"
DEFAULT_TOP = 3
#: Rows of a figure that stays readable.
MOST_ROWS = 10


@dataclass(frozen=True)
class _Photo:
    """A photo to explain: its ``path``, the ``name`` of its outputs, the ``image`` the model
    sees (H, W, C) in [0, 1], the model's ``probabilities`` (K,) on it, the classes to explain
    and what reading the file converted."""

    path: str
    name: str
    image: np.ndarray
    probabilities: np.ndarray
    targets: list[int]
    converted: str | None


@dataclass(frozen=True)
class _Run:
    """Everything checked, nothing computed yet: the model (``classifier``, called ``model`` in
    the reports), the photos, the methods with their options, and the defaults ``skipped``
    (method -> why)."""

    classifier: Classifier
    model: str
    photos: list[_Photo]
    methods: list[str]
    options: dict[str, dict]
    skipped: dict[str, str]


def explain_photos(photos: Sequence[str], model=DEFAULT_MODEL,
                   methods: Sequence[str] | None = None, top: int | None = None,
                   targets: Sequence[str | int] | None = None, layer: str | None = None,
                   out: str = "explanations", overwrite: bool = False, theme: str = "dark",
                   maps: bool = False, verbose: int = 1) -> list[dict]:
    """Explain each photo file with each method for its ``top`` most probable classes (3), or
    for ``targets`` (class names or indices); write ``<name>_explained.png`` and ``.json`` per
    photo into ``out``, and ``.npz`` with the maps when ``maps``. Returns the JSON records
    (``ildl.explain.report``).

    ``model``: a pretrained name or a model file (``as_classifier``); ``methods``: names from
    ``METHODS`` (default ``DEFAULT_METHODS``, less those that cannot run here); ``layer``: the
    layer Grad-CAM reads (a name from the torch module's ``named_modules()``, or an ildl
    layer's name); ``theme``: ``"dark"`` or ``"light"``; ``verbose`` 0 prints nothing.
    """
    run = _checked_run(photos, model, methods, top, targets, layer, out, overwrite, theme,
                       maps)
    make_out_folder(out)
    import_modules(run.methods)
    say = print if verbose else _silent
    _say_what_comes(run, say)
    first = _timed_first_class(run, say, verbose)
    records = []
    for index, photo in enumerate(run.photos):
        rows = _explained_rows(run, photo, first if index == 0 else {}, verbose)
        names = [run.classifier.class_name(k) for k in range(len(photo.probabilities))]
        report = PhotoReport(photo.path, run.model, rows, photo.probabilities, names,
                             photo.converted, run.options, run.skipped)
        records.append(report.write(out, photo.name, theme, maps))
    return records


def _silent(*args, **kwargs) -> None:
    """``print`` when ``verbose`` is 0."""


def _say_what_comes(run: _Run, say) -> None:
    """The methods left out, and what the model says about each photo."""
    for method, reason in run.skipped.items():
        say(f"note: {method} was skipped: {reason}")
    for photo in run.photos:
        said = ", ".join(f"{run.classifier.class_name(index)} {photo.probabilities[index]:.1%}"
                         for index in top_classes(photo.probabilities, DEFAULT_TOP))
        say(f"{photo.name}: {said}" +
            (f" (the file was {photo.converted})" if photo.converted else ""))


# -- checks, before any work -----------------------------------------------------------------------
def _checked_run(photos, model, methods, top, targets, layer, out, overwrite, theme,
                 maps) -> _Run:
    """Check every argument, cheapest first, then load the model and read the photos; nothing
    is written yet."""
    paths = _check_photo_paths(photos)
    asked = None if methods is None else check_methods(methods)
    targets = [targets] if isinstance(targets, str | int) else targets
    _check_top(top, targets)
    check_theme(theme)
    check_out_folder(out, "the figures and JSON files need a folder")
    names = {path: os.path.splitext(os.path.basename(path))[0] for path in paths}
    check_new_files([file for path in paths for file in report_files(out, names[path], maps)],
                    overwrite, out, inputs=paths)
    classifier = as_classifier(model)
    chosen, skipped = _usable_methods(asked, classifier)
    options = _check_layer(layer, chosen, skipped, classifier)
    read = [_read(path, names[path], classifier, top, targets) for path in paths]
    _check_layer_outputs(classifier, read[0], options)
    name = model if isinstance(model, str) else classifier.description
    return _Run(classifier, name, read, chosen, options, skipped)


def _check_photo_paths(photos: Sequence[str]) -> list[str]:
    """The photo paths, each once; two files whose outputs would share a name are refused."""
    if isinstance(photos, str | os.PathLike):
        photos = [photos]
    paths = list(dict.fromkeys(os.fspath(photo) if isinstance(photo, os.PathLike) else photo
                               for photo in photos))
    if not paths:
        raise ArgumentError("no photo given; pass one or more image files (JPEG, PNG, ...)")
    for path in paths:
        if not isinstance(path, str):
            raise ArgumentError(f"photos must be paths of image files, got {path!r}")
    by_name = {}
    for path in paths:
        name = os.path.splitext(os.path.basename(path))[0]
        if name in by_name and os.path.realpath(by_name[name]) != os.path.realpath(path):
            raise ArgumentError(f"{by_name[name]!r} and {path!r} would both be reported as "
                                f"{name}_explained.png; explain them in two runs with different "
                                "--out, or rename one")
        by_name[name] = path
    return list(by_name.values())


def _check_top(top, targets) -> None:
    if top is not None and targets is not None:
        raise ArgumentError("pass --top (the most probable classes) or --target (chosen "
                            "classes), not both")
    if top is not None and (not is_integer(top) or not 1 <= top <= MOST_ROWS):
        raise ArgumentError(f"--top {top!r} is out of range: it is the number of most probable "
                            f"classes explained, one row each, from 1 to {MOST_ROWS} "
                            f"(default {DEFAULT_TOP})")
    if targets is not None and not 1 <= len(targets) <= MOST_ROWS:
        raise ArgumentError(f"--target takes 1 to {MOST_ROWS} classes (one row each), got "
                            f"{len(targets)}")


def _usable_methods(asked: list[str] | None, classifier: Classifier
                    ) -> tuple[list[str], dict[str, str]]:
    """The methods to run and, for the defaults left out, why. A method asked for by name that
    cannot run is an error: the user wanted that one."""
    if asked is not None:
        for method in asked:
            reason = method_unavailable(method, classifier)
            if reason:
                raise ArgumentError(f"--methods {method}: {reason}")
        return asked, {}
    reasons = {method: method_unavailable(method, classifier) for method in DEFAULT_METHODS}
    chosen = [method for method, reason in reasons.items() if reason is None]
    if not chosen:
        raise ArgumentError(f"none of the default methods can explain {classifier.description}: "
                            + "; ".join(reasons.values()))
    return chosen, {method: reason for method, reason in reasons.items() if reason}


def _check_layer(layer: str | None, methods: list[str], skipped: dict[str, str],
                 classifier: Classifier) -> dict[str, dict]:
    """The methods' options: Grad-CAM's ``layer`` when given, after checking that the model
    has a layer of that name."""
    if layer is None:
        return {}
    if "gradcam" in skipped:
        raise ArgumentError(f"--layer {layer!r} is the layer Grad-CAM reads, but "
                            f"{skipped['gradcam']}")
    if "gradcam" not in methods:
        raise ArgumentError(f"--layer {layer!r} is the layer Grad-CAM reads, but gradcam is not "
                            f"among the methods ({', '.join(methods)}); add it to --methods")
    if isinstance(classifier, TorchClassifier):
        names = [name for name, _ in classifier.module.named_modules() if name]
    elif isinstance(classifier, SequentialClassifier):
        names = [own.name for own in classifier.model.layers]
    else:
        names = []
    if layer not in names:
        shown = names if len(names) <= 8 else [*names[:3], "...", *names[-4:]]
        raise ArgumentError(f"--layer {layer!r} is not a layer of {classifier.description}"
                            f"{did_you_mean(layer, names)}; its layers are {', '.join(shown)}")
    return {"gradcam": {"layer": layer}}


def _check_layer_outputs(classifier: Classifier, photo: _Photo, options: dict) -> None:
    """Grad-CAM needs feature maps: refuse a ``--layer`` whose outputs are not (N, H', W', C),
    from its outputs on the first photo (one evaluation), before any map is made."""
    layer = options.get("gradcam", {}).get("layer")
    if layer is None:
        return
    activations, _ = classifier.activations_and_gradient(photo.image[None], photo.targets[0],
                                                         layer)
    if activations.ndim != 4:
        raise ArgumentError(f"--layer {layer!r} outputs shape {activations.shape[1:]}, but "
                            "Grad-CAM needs feature maps (height, width, channels): choose a "
                            "convolutional layer")


def _read(path: str, name: str, classifier: Classifier, top: int | None,
          targets: Sequence[str | int] | None) -> _Photo:
    """Read and prepare the photo at ``path`` and choose the classes it is explained for."""
    pixels, converted = read_photo(path)
    image = classifier.prepare(pixels)
    probabilities = classifier.predict(image[None])[0]
    classes = len(probabilities)
    if targets is not None:
        chosen = list(dict.fromkeys(_class_index(target, classifier, classes)
                                    for target in targets))
    else:
        top = min(DEFAULT_TOP, classes) if top is None else top
        if top > classes:
            raise ArgumentError(f"--top {top} is out of range: {classifier.description} has "
                                f"only {classes} classes; pass --top {classes} or fewer")
        chosen = top_classes(probabilities, top)
    return _Photo(path, name, image, probabilities, chosen, converted)


def _class_index(target: str | int, classifier: Classifier, classes: int) -> int:
    """The class ``target`` names: an index (``"281"``) or a name (``"tabby"``; case, and
    ``_`` for spaces, do not matter)."""
    text = str(target).strip()
    if text.isdigit():
        if int(text) >= classes:
            raise ArgumentError(f"--target {text} is out of range: the model has {classes} "
                                f"classes, 0 to {classes - 1}")
        return int(text)
    names = [classifier.class_name(index) for index in range(classes)]
    key = text.lower().replace("_", " ")
    matches = [index for index, name in enumerate(names) if name.lower() == key]
    if len(matches) > 1:
        raise ArgumentError(f"--target {text!r} names {len(matches)} classes "
                            f"({', '.join(map(str, matches))}); pass the index of the one "
                            "you mean")
    if not matches:
        raise ArgumentError(f"--target {text!r} is not a class of the model"
                            f"{did_you_mean(key, names)}; pass a class name or an index from 0 "
                            f"to {classes - 1}")
    return matches[0]


# -- the work, timed -------------------------------------------------------------------------------
def _timed_first_class(run: _Run, say, verbose: int) -> dict[tuple[int, str], Explanation]:
    """Every method's map of the first photo's first class, and the estimate of the whole run
    from their times (a map costs about the same for every class and photo)."""
    photo, methods = run.photos[0], run.methods
    target = photo.targets[0]
    maps = len(run.photos) * len(photo.targets) * len(methods)
    say(f"{maps} maps: {len(run.photos)} photo(s) x {len(photo.targets)} class(es) x "
        f"{len(methods)} method(s) ({', '.join(methods)}) with {run.model}; each method is "
        "timed on the first class, and the rest estimated from it")
    found = {}
    _make_maps(run, photo, [(target, method) for method in methods],
               f"{photo.name}: every method for {run.classifier.class_name(target)}", found,
               verbose)
    seconds = {method: found[target, method].seconds for method in methods}
    per_class = sum(seconds.values())
    say("one class: " + ", ".join(f"{method} {map_seconds(time)}" for method, time in
                                  seconds.items()) + f"; {map_seconds(per_class)} in all")
    if maps > len(methods):
        say(f"about {map_seconds(per_class * (maps / len(methods) - 1))} for the other "
            f"{maps - len(methods)} maps")
    return found


def _explained_rows(run: _Run, photo: _Photo, found: dict, verbose: int
                    ) -> list[list[Explanation]]:
    """``rows[r][c]``: the photo's class r by method c, made method after method, each with a
    progress bar over the classes (``found`` holds maps already made)."""
    found = dict(found)
    for method in run.methods:
        todo = [(target, method) for target in photo.targets if (target, method) not in found]
        if todo:
            _make_maps(run, photo, todo, f"{photo.name}: {method}", found, verbose)
    return [[found[target, method] for method in run.methods] for target in photo.targets]


def _make_maps(run: _Run, photo: _Photo, jobs: list[tuple[int, str]], title: str,
               found: dict, verbose: int) -> None:
    """Make the maps of ``photo`` that ``jobs`` lists as (class, method) pairs into ``found``,
    with a progress bar (its rate counts the images the model evaluated)."""
    bar = ProgressBar(len(jobs), title=title, interactive=None if verbose else False)
    evaluations = 0
    for step, (target, method) in enumerate(jobs):
        # on a terminal, the line says which map is being made (LIME's takes many seconds)
        bar.title = f"{photo.name}: {method} for {run.classifier.class_name(target)}"
        bar.update(step, evaluations, {})
        found[target, method] = explain(run.classifier, photo.image, target, method,
                                        **run.options.get(method, {}))
        evaluations += found[target, method].evaluations
    bar.title = title
    if verbose:
        bar.finish(len(jobs), evaluations, {})
