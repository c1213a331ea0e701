"""The gallery renders every registered figure and an index, and survives a broken figure."""

import matplotlib
import pytest
from PIL import Image

from ildl.gallery import FIGURES, Figure, RenderOptions, render_gallery
from ildl.gallery.registry import register
from ildl.gallery.render import LinePrefixer

matplotlib.use("Agg")
QUICK = RenderOptions(quick=True)


def quiet(message):
    pass


@pytest.mark.slow  # trains or renders for a minute under load
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


def test_what_a_figure_prints_is_prefixed_with_its_name_one_whole_line_at_a_time():
    import io

    out = io.StringIO()
    stream = LinePrefixer(out, "object_detection | ")
    stream.write("epoch 1/2 [==>...] 1/4\repoch 1/2 [====>.] 2/4")  # a bar redrawn in place
    assert out.getvalue() == ""  # nothing until the line ends
    stream.write("\repoch 1/2 [======] 4/4 done\n  val: mAP50 0.1\n\npartial")
    assert out.getvalue() == ("object_detection | epoch 1/2 [======] 4/4 done\n"
                              "object_detection |   val: mAP50 0.1\n")
    assert not stream.isatty()  # so progress bars print finished lines, not redraws


def printing(out_dir, options):
    print("training a model")
    return []


def test_long_work_is_announced_before_rendering_and_progress_names_the_figure(tmp_path,
                                                                                 capsys):
    register(Figure("slow_for_test", "a figure that trains", "train()", printing,
                    long_work=lambda options: "trains a model: about 3 minutes"))
    register(Figure("cached_for_test", "its work is cached", "draw()", printing,
                    long_work=lambda options: ""))
    lines = []
    try:
        render_gallery(str(tmp_path), ["slow_for_test", "cached_for_test"], RenderOptions(),
                       jobs=1, log=lines.append)
        quick_lines = []
        render_gallery(str(tmp_path), ["slow_for_test"], QUICK, jobs=1, log=quick_lines.append)
    finally:
        del FIGURES["slow_for_test"], FIGURES["cached_for_test"]
    assert lines[1] == ("slow_for_test trains a model: about 3 minutes; it is done once, then "
                        "cached")
    assert not any("cached_for_test" in line for line in lines[:2])
    assert lines[2].startswith("[1/2] slow_for_test: ") and "so far, waiting for " \
        "cached_for_test" in lines[2]
    assert lines[3].startswith("[2/2] cached_for_test: ") and "waiting" not in lines[3]
    assert capsys.readouterr().out == ("slow_for_test | training a model\n"
                                       "cached_for_test | training a model\n"
                                       "slow_for_test | training a model\n")
    assert not any("about 3 minutes" in line for line in quick_lines)  # quick: none to announce


def test_the_index_links_read_on_both_themes(tmp_path):
    """The contents' links get the theme's link colour, not the browser's dark blue (#0000ee),
    which vanishes on the dark page (WCAG contrast ratio of at least 4.5 against the page)."""
    import re

    def luminance(colour):
        channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    for theme in ("dark", "light"):
        render_gallery(str(tmp_path / theme), ["ewma"], RenderOptions(quick=True, theme=theme),
                       log=quiet)
        page = (tmp_path / theme / "index.html").read_text()
        background = re.search(r"body\{background:(#[0-9a-f]{6})", page).group(1)
        links = re.findall(r"a(?::visited)?\{color:(#[0-9a-f]{6})\}", page)
        assert len(links) == 2, "the page sets no colour for its links (and visited links)"
        for link in links:
            light, dark = sorted([luminance(link), luminance(background)], reverse=True)
            assert (light + 0.05) / (dark + 0.05) >= 4.5, (theme, link, background)
