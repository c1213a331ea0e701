"""The figures of the gallery, each a small function registered with its caption and code."""

from __future__ import annotations

import os

from .registry import Figure, RenderOptions, register


def _render_numpy_model_boundary(out_dir: str, options: RenderOptions) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..demos.moons import run_moons
    from ..viz import plot_decision_boundary

    result = run_moons(steps=500 if options.quick else 10_000, torch_twin=False)
    figure, ax = plt.subplots(figsize=(7, 5.5))
    plot_decision_boundary(result.model, result.data.x_test, result.data.y_test, ax=ax,
                           title=f"ildl.nn 2-25-50-50-25-1 on the moons: test accuracy "
                                 f"{result.ildl.accuracy:.1%} after {result.ildl.steps:,} steps")
    name = "numpy_model_boundary.png"
    figure.savefig(os.path.join(out_dir, name), dpi=110, bbox_inches="tight")
    plt.close(figure)
    return [name]


register(Figure(
    name="numpy_model_boundary",
    caption="The plain-NumPy network of the collection after training on the moons: the shading is "
            "the predicted probability of the red class, the black line the decision boundary.",
    code="from ildl.demos.moons import run_moons\nfrom ildl.viz import plot_decision_boundary\n"
         "result = run_moons()\nplot_decision_boundary(result.model, result.data.x_test, "
         "result.data.y_test)",
    render=_render_numpy_model_boundary,
))

# Each area registers its figures on import.
from . import figures_boundaries, figures_misc, figures_surfaces  # noqa: E402, F401
