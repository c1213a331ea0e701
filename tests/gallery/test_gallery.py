"""The gallery renders every registered figure and an index, and survives a broken figure."""

import matplotlib
import pytest
from PIL import Image

from ildl.gallery import FIGURES, Figure, RenderOptions, render_gallery
from ildl.gallery.registry import register

matplotlib.use("Agg")
QUICK = RenderOptions(quick=True)


def quiet(message):
    pass


def test_quick_gallery_writes_every_figure_and_the_index(tmp_path):
    outcomes = render_gallery(str(tmp_path), options=QUICK, jobs=2, log=quiet)
    assert [outcome.name for outcome in outcomes] == list(FIGURES)
    assert all(outcome.error is None for outcome in outcomes), [o.error for o in outcomes]
    index = (tmp_path / "index.html").read_text()
    for outcome in outcomes:
        assert outcome.name in index
        for name in outcome.files:
            with Image.open(tmp_path / name) as image:
                assert image.size[0] > 100 and image.size[1] > 100


def broken(out_dir, options):
    raise RuntimeError("deliberately broken")


def test_a_failing_figure_is_reported_and_the_others_still_render(tmp_path):
    register(Figure("broken_for_test", "a figure that fails", "broken()", broken))
    try:  # in this process (jobs=1): a worker process would not know the test's figure
        outcomes = render_gallery(str(tmp_path), ["broken_for_test", "numpy_model_animation"],
                                  QUICK, jobs=1, log=quiet)
    finally:
        del FIGURES["broken_for_test"]
    errors = {outcome.name: outcome.error for outcome in outcomes}
    assert "deliberately broken" in errors["broken_for_test"]
    assert errors["numpy_model_animation"] is None
    assert (tmp_path / "numpy_model_animation_summary.png").exists()
    assert "deliberately broken" in (tmp_path / "index.html").read_text()


def test_a_figure_whose_optional_package_is_missing_is_skipped_with_the_fix(tmp_path):
    register(Figure("needs_missing_package", "a figure needing a package that is not there",
                    "nothing()", broken, requires=("no_such_package_for_ildl_tests",)))
    try:
        outcomes = render_gallery(str(tmp_path), ["needs_missing_package"], QUICK, jobs=1,
                                  log=quiet)
    finally:
        del FIGURES["needs_missing_package"]
    outcome = outcomes[0]
    assert outcome.error is None and outcome.files == []
    assert "no_such_package_for_ildl_tests" in outcome.skipped
    assert "pip install" in outcome.skipped
    assert "skipped" in (tmp_path / "index.html").read_text()


def test_unknown_figure_names_list_the_available_ones(tmp_path):
    with pytest.raises(ValueError, match="numpy_model_animation"):
        render_gallery(str(tmp_path), ["no_such_figure"])


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="theme"):
        RenderOptions(theme="sepia")
    with pytest.raises(ValueError, match="format"):
        RenderOptions(format="avi")


def test_figures_are_listed_by_topic_in_a_fixed_order():
    gallery = [name for name in FIGURES if not name.endswith("_for_test")]
    assert gallery == [
        "boundary_frames", "boundary_animation", "numpy_model_animation", "bias_variance",
        "train_vs_validation", "weights_l2", "activations", "ewma", "lorenz_attractor",
        "convolution", "cnn_training", "object_detection", "explaining_images",
        "gradient_descent", "critical_points", "optimizers_comparison", "learning_rate"]


def test_no_figure_module_imports_another():
    """Figure modules share only the registry and ildl's public modules (one way to save, one
    way to import pyplot), never each other's helpers; a figure may keep its own helpers in a
    module of their own (explaining_images' maps, in explained_images), which no other figure
    imports."""
    import ast
    import pathlib
    from collections import defaultdict

    import ildl.gallery

    importers = defaultdict(set)
    for path in pathlib.Path(ildl.gallery.__file__).parent.glob("figures_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                assert not node.module.startswith("figures"), f"{path.name} imports .{node.module}"
                importers[node.module].add(path.name)
    shared = {module: names for module, names in importers.items() if len(names) > 1}
    assert set(shared) == {"registry"}, shared
