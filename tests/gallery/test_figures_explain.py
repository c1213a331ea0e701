"""The explaining_images figure: a quick render writes the GIF (one frame per image) and the
summary, with one panel per available method."""

import matplotlib
from PIL import Image

from ildl.gallery import FIGURES, RenderOptions
from ildl.gallery.figures_explain import GRADIENT_AND_PERTURBATION, available_methods
from ildl.gallery.render import render_one

matplotlib.use("Agg")


def test_quick_render_writes_the_cycling_gif_and_the_top3_still(tmp_path):
    outcome = render_one("explaining_images", str(tmp_path), RenderOptions(quick=True))
    assert outcome.error is None, outcome.error
    assert outcome.files == ["explaining_images.gif", "explaining_images.png"]
    with Image.open(tmp_path / "explaining_images.gif") as image:
        assert image.n_frames == 2 and image.size[0] > 4 * image.size[1]
    with Image.open(tmp_path / "explaining_images.png") as image:
        assert image.format == "PNG"
    assert "explaining_images" in FIGURES


def test_every_gradient_and_perturbation_method_is_shown():
    assert available_methods()[:len(GRADIENT_AND_PERTURBATION)] == list(GRADIENT_AND_PERTURBATION)
