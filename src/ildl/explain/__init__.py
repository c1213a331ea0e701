"""ildl.explain: why did the classifier say that? Heat maps over the image for one class.

>>> from ildl.explain import explain
>>> explanation = explain(model, image, method="gradcam")     # or "lime", "shap", "rise", ...
>>> explanation.heatmap.shape, explanation.target, explanation.seconds

``model`` is an ildl.nn ``Sequential``, a ``torch.nn.Module`` or a bare predict function
``images (N, H, W, C) -> probabilities (N, K)``. Gradient methods (``gradcam``, ``saliency``,
``integrated_gradients``) need a model that can be differentiated, ``shap_gradient`` a torch
module; ``occlusion``, ``rise``, ``lime`` and ``shap`` only need predictions. lime, shap and
their image tools are optional: ``pip install "ildl[explain]"``.

``plot_explanations(model, image, methods, top_k=3)`` draws every method's map for the top
classes side by side. Which method to trust? ``run_benchmark`` (``ildl explain bench``)
measures them all on shape images whose object masks are known (``default_task``), with the
metrics of ``metrics``.
"""

from .bench import run_benchmark
from .compare import plot_explanations
from .explanation import Explanation
from .methods import METHODS, explain
from .models import Classifier, as_classifier
from .shapes_task import default_task

__all__ = ["METHODS", "Classifier", "Explanation", "as_classifier", "default_task", "explain",
           "plot_explanations", "run_benchmark"]
