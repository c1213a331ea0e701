"""The explainer benchmark on real photographs: a pretrained network (``"efficientnet-lite0"``,
or any model ``as_classifier`` takes) explains each photo's top-1 class with every method.

Photos have no object masks, so this task measures what needs none:

- **cost**: seconds and model evaluations per map;
- **faithfulness** (Petsiuk et al. 2018): deletion and insertion AUC under two baselines,
  *black* and the *blurred* photo (``metrics.blurred``: a Gaussian of sigma 5% of the shorter
  side). Black pixels make images no photo looks like, so a model's answer on them says little;
  the blur keeps the photo a photo and removes only its details;
- **sanity** (Adebayo et al. 2018): the cascading randomisation of the network, from the
  classifier down (``randomize.cascading_randomization``), on the first ``sanity_images``
  photos: the Spearman correlation of |map| from the original and from the randomised network
  at each step (a map that depends on the weights changes: the correlation falls).

Localisation (pointing game, energy in mask) needs masks: it comes from the shapes task
(``ildl.explain.bench``). The work goes photo by photo, every method on each, so the time of the
first photo gives an estimate of the whole run, printed before the rest is done.

>>> options = PhotoBenchOptions.chosen(images=2, sanity_images=1, steps=8, quick=True, seed=0)
>>> rows = run_photo_benchmark("efficientnet-lite0", ["gradcam", "random"], None, options, "out")
>>> sorted(rows[0]["cascade"])[:2]                # last layer randomised -> rank correlation
['blocks.10', 'blocks.14']
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import ArgumentError
from ..progress import ProgressBar, format_seconds
from .bench_methods import (
    Unsupported,
    check_supported,
    heatmap_and_cost,
    mean_of_numbers,
    method_options,
)
from .bench_report import PhotoBenchSettings, write_photo_report
from .metrics import BLUR_SHARE, auc, blurred, deletion_curve, insertion_curve, sanity_correlation
from .models import Classifier, TorchClassifier
from .photos import read_photo, sample_photos
from .randomize import cascade_counts, cascading_randomization, layers_top_down
from .sources import as_classifier

BASELINES = ("black", "blurred")


@dataclass(frozen=True)
class PhotoBenchOptions:
    """What the photo benchmark runs: the first ``images`` photos (None: all of them), the
    cascade on the first ``sanity_images`` (0: no cascade), deletion and insertion curves of
    ``steps`` steps, methods with fewer samples when ``quick``, random draws from ``seed``."""

    images: int | None
    sanity_images: int
    steps: int
    quick: bool
    seed: int

    @classmethod
    def chosen(cls, images: int | None, sanity_images: int | None, steps: int | None,
               quick: bool, seed: int) -> PhotoBenchOptions:
        """The options asked for, with the defaults for those left None: every photo (2 with
        ``quick``), the cascade on 1 photo, 16 steps (8 with ``quick``): 68 (36) evaluations of
        curves per map, little next to what most methods cost."""
        images = (2 if quick else None) if images is None else images
        sanity_images = 1 if sanity_images is None else sanity_images
        steps = (8 if quick else 16) if steps is None else steps
        for name, value, least in (("images", images, 1), ("sanity_images", sanity_images, 0),
                                   ("steps", steps, 1)):
            if value is not None and (isinstance(value, bool) or not isinstance(
                    value, int | np.integer) or value < least):
                raise ArgumentError(f"{name} must be a whole number >= {least}, got {value!r}")
        if images is not None and sanity_images > images:
            raise ArgumentError(f"sanity_images ({sanity_images}) are the first of the photos "
                                f"explained and cannot be more than images ({images})")
        return cls(images, sanity_images, steps, quick, seed)


@dataclass(frozen=True)
class Photo:
    """One photo as the model sees it, and what the model says of it."""

    name: str
    image: np.ndarray  # (H, W, 3) in [0, 1]: cropped and resized by the model's preprocessing
    target: int  # the model's top-1 class, which every method explains
    class_name: str
    probability: float
    baselines: dict  # baseline name -> what replaces a pixel: 0 (black) or the blurred image


@dataclass
class PhotoScores:
    """One method's measurements: per photo its cost and, per baseline, its deletion and
    insertion curves ``(steps + 1,)``; per cascade step the mean rank correlation."""

    method: str
    seconds: list = field(default_factory=list)
    evaluations: list = field(default_factory=list)
    deletion: dict = field(default_factory=lambda: {baseline: [] for baseline in BASELINES})
    insertion: dict = field(default_factory=lambda: {baseline: [] for baseline in BASELINES})
    cascade: list = field(default_factory=list)

    def row(self, cascade_layers: Sequence[str]) -> dict:
        """The method's line: means over the photos; ``"cascade"``: last layer randomised ->
        mean rank correlation over the sanity photos (NaN where every map was constant)."""
        row = {"method": self.method, "photos": len(self.seconds),
               "seconds": float(np.mean(self.seconds)),
               "evaluations": float(np.mean(self.evaluations))}
        for baseline in BASELINES:
            row[f"deletion_auc_{baseline}"] = float(np.mean([auc(curve) for curve in
                                                             self.deletion[baseline]]))
            row[f"insertion_auc_{baseline}"] = float(np.mean([auc(curve) for curve in
                                                              self.insertion[baseline]]))
        row["cascade"] = dict(zip(cascade_layers, self.cascade))
        return row

    def mean_curves(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per baseline, the mean deletion and insertion curves over the photos."""
        return {baseline: (np.mean(self.deletion[baseline], axis=0),
                           np.mean(self.insertion[baseline], axis=0)) for baseline in BASELINES}


def run_photo_benchmark(model, methods: Sequence[str], photos: Sequence | None,
                        options: PhotoBenchOptions, out_dir: str | os.PathLike,
                        verbose: int = 1) -> list[dict]:
    """Explain every photo with every method, run the cascade, write the report
    (``bench_report.write_photo_report``) and return one row per method (``PhotoScores.row``).

    ``methods``: names from ``METHODS`` or the ``random`` floor; one the model cannot support
    (or whose package is missing) is left out with a note. ``photos``: image file paths (None:
    ``sample_photos()``). See ``ildl.explain.bench.run_benchmark``, which calls this.
    """
    start = time.perf_counter()
    classifier = as_classifier(model)
    chosen = read_photos(classifier, photos, options.images)
    if options.sanity_images > len(chosen):
        raise ArgumentError(f"sanity_images ({options.sanity_images}) are the first of the "
                            f"photos explained and cannot be more than the {len(chosen)} photos")
    sanity = chosen[:options.sanity_images]
    methods, notes = _supported(methods, classifier)
    cascade_steps = _cascade_steps(classifier, sanity, notes)
    if verbose:
        _announce(classifier, chosen, methods, options, len(sanity) * cascade_steps)
        print("".join(f"note: {note}\n" for note in notes), end="")
    scores = {method: PhotoScores(method) for method in methods}
    originals = _explain_photos(classifier, chosen, scores, options, notes,
                                len(sanity) * cascade_steps, verbose)
    layers = _cascade(classifier, sanity, scores, originals, options, verbose) \
        if cascade_steps else []
    rows = [result.row(layers) for result in scores.values()]
    height, width = chosen[0].image.shape[:2]
    settings = PhotoBenchSettings(
        model=classifier.description,
        photos=[(photo.name, photo.class_name, photo.probability) for photo in chosen],
        sanity_photos=[photo.name for photo in sanity], cascade_layers=layers,
        image_shape=chosen[0].image.shape, steps=options.steps,
        blur_sigma=BLUR_SHARE * min(height, width), quick=options.quick, seed=options.seed,
        seconds=time.perf_counter() - start, notes=notes)
    write_photo_report(rows, {result.method: result.mean_curves() for result in scores.values()},
                       settings, out_dir)
    return rows


def read_photos(classifier: Classifier, paths: Sequence | None, count: int | None
                ) -> list[Photo]:
    """The first ``count`` photos (None: all) of ``paths`` (None: ``sample_photos()``), each
    prepared for the model (``Classifier.prepare``) and labelled with its top-1 class."""
    named = list(sample_photos().items()) if paths is None else \
        [(os.path.splitext(os.path.basename(os.fspath(path)))[0], path) for path in paths]
    if not named:
        raise ArgumentError("no photos to explain: pass photo files, or install scikit-image "
                            "for its sample photos (pip install \"ildl[explain]\")")
    if count is not None and count > len(named):
        raise ArgumentError(f"images is {count} but there are {len(named)} photos; pass at most "
                            f"{len(named)}, or more photo files")
    named = named[:count]
    images = np.stack([classifier.prepare(read_photo(path)[0]) for _, path in named])
    probabilities = classifier.predict(images)
    targets = probabilities.argmax(axis=1)
    return [Photo(name, image, int(target), classifier.class_name(int(target)),
                  float(row[target]), {"black": 0.0, "blurred": blurred(image)})
            for (name, _), image, target, row in zip(named, images, targets, probabilities)]


def _supported(methods: Sequence[str], classifier: Classifier) -> tuple[list[str], list[str]]:
    """The methods the model supports, and a note for each one left out, saying why."""
    kept, notes = [], []
    for method in methods:
        try:
            check_supported(method, classifier)
            kept.append(method)
        except Unsupported as error:
            notes.append(f"{method} was skipped: {error}")
    return kept, notes


def _cascade_steps(classifier: Classifier, sanity: list[Photo], notes: list[str]) -> int:
    """The number of cascade steps (0 when there is no cascade to run, with a note why)."""
    if not sanity:
        return 0
    if not isinstance(classifier, TorchClassifier):
        notes.append(f"the cascading randomisation was skipped: it re-initialises a torch "
                     f"module's weights, and {classifier.description} is not one")
        return 0
    return len(cascade_counts(len(layers_top_down(classifier.module))))


def _announce(classifier: Classifier, photos: list[Photo], methods: list[str],
              options: PhotoBenchOptions, cascade_maps: int) -> None:
    curve_evaluations = 2 * len(BASELINES) * (options.steps + 1)
    print(f"{classifier.description}: {len(photos)} photos x {len(methods)} methods, each map "
          f"scored by {curve_evaluations} evaluations of deletion and insertion curves; then "
          f"the cascade: {cascade_maps} maps per method. The time of the whole run is "
          f"estimated after the first photo.")


def _explain_photos(classifier: Classifier, photos: list[Photo], scores: dict,
                    options: PhotoBenchOptions, notes: list[str], cascade_maps: int,
                    verbose: int) -> dict:
    """Explain and score every photo with every method of ``scores`` (a method whose package
    is missing is dropped, with a note). Returns the maps of the cascade's photos,
    ``{(method, photo index): heatmap}``."""
    kept = {}
    start = time.perf_counter()
    curve_evaluations = 2 * len(BASELINES) * (options.steps + 1)
    for index, photo in enumerate(photos):
        bar = ProgressBar(len(scores), title=f"{photo.name:>14}",
                          interactive=None if verbose else False)
        evaluations = 0  # the bar's "samples": images the model ran on
        for done, method in enumerate(list(scores), start=1):
            try:
                heatmap = _score_map(scores[method], classifier, photo, index, options)
            except ImportError as error:  # lime, shap... are not installed
                notes.append(f"{method} was skipped: {error}")
                if verbose:
                    print(f"note: {notes[-1]}")
                del scores[method]
                continue
            if index < options.sanity_images:
                kept[method, index] = heatmap
            evaluations += scores[method].evaluations[-1] + curve_evaluations
            bar.update(done, evaluations, {})
        if verbose:
            bar.finish(len(scores), evaluations, {})
        if index == 0 and verbose and (len(photos) > 1 or cascade_maps):
            _print_estimate(time.perf_counter() - start, scores, len(photos), cascade_maps)
    return kept


def _score_map(scores: PhotoScores, classifier: Classifier, photo: Photo, index: int,
               options: PhotoBenchOptions) -> np.ndarray:
    """Explain ``photo`` with the method of ``scores``, add its cost and curves; the map."""
    seed = options.seed + index  # new random draws for each photo
    heatmap, seconds, evaluations = heatmap_and_cost(
        classifier, photo.image, photo.target, scores.method,
        method_options(scores.method, seed, fewer=options.quick))
    scores.seconds.append(seconds)
    scores.evaluations.append(evaluations)
    for baseline, blank in photo.baselines.items():
        curve_of = dict(predict=classifier.predict, image=photo.image, heatmap=heatmap,
                        target=photo.target, steps=options.steps, seed=seed,
                        batch_size=classifier.batch_size)
        scores.deletion[baseline].append(deletion_curve(**curve_of, baseline=blank))
        scores.insertion[baseline].append(insertion_curve(**curve_of, canvas=blank))
    return heatmap


def _print_estimate(first_photo: float, scores: dict, photos: int, cascade_maps: int) -> None:
    """The whole run from the first photo: each further photo costs as much, and each cascade
    map of a method as much as its map of the first photo (without the curves)."""
    maps = sum(result.seconds[0] for result in scores.values())
    total = first_photo * photos + maps * cascade_maps
    print(f"first photo: {format_seconds(first_photo)} ({format_seconds(maps)} of maps); "
          f"estimated {format_seconds(total)} in all ({photos - 1} more photos, then "
          f"{cascade_maps} cascade maps per method)")


def _cascade(classifier: TorchClassifier, photos: list[Photo], scores: dict, originals: dict,
             options: PhotoBenchOptions, verbose: int) -> list[str]:
    """Randomise the network from the top down, step by step; at each step, the rank
    correlation of every method's map on each photo with its map from the original network,
    with the same options and seed (only the weights differ). Adds the mean over the photos
    to each ``PhotoScores.cascade`` and returns the last layer randomised at each step."""
    layers = []
    for names, module in cascading_randomization(classifier.module, seed=options.seed):
        randomized = _same_classifier(classifier, module, names)
        bar = ProgressBar(len(scores), title=f"{'→ ' + names[-1]:>14}",
                          interactive=None if verbose else False)
        evaluations = 0
        for done, (method, result) in enumerate(scores.items(), start=1):
            correlations = []
            for index, photo in enumerate(photos):
                heatmap, _, cost = heatmap_and_cost(
                    randomized, photo.image, photo.target, method,
                    method_options(method, options.seed + index, fewer=options.quick))
                correlations.append(sanity_correlation(originals[method, index], heatmap))
                evaluations += cost
            result.cascade.append(mean_of_numbers(correlations))
            bar.update(done, evaluations, {})
        if verbose:
            bar.finish(len(scores), evaluations, {})
        layers.append(names[-1])
    return layers


def _same_classifier(classifier: TorchClassifier, module, randomized: list[str]
                     ) -> TorchClassifier:
    """``classifier`` around another ``module`` of the same architecture: the same outputs,
    preprocessing, class names, batch size and Grad-CAM layer (by name)."""
    layer = classifier.layer
    if layer is not None and not isinstance(layer, str):  # a module of the original network
        layer = next(name for name, inner in classifier.module.named_modules() if inner is layer)
    return TorchClassifier(module, classifier.input_shape, classifier.batch_size,
                           outputs=classifier.outputs, preprocessing=classifier.preprocessing,
                           class_names=classifier.class_names, layer=layer,
                           description=f"{classifier.description} randomised down to "
                                       f"{randomized[-1]}")
