"""ildl.explain: why did the classifier say that? Heat maps over the image for one class.

>>> from ildl.explain import explain
>>> explanation = explain(model, image, method="gradcam")     # or "lime", "shap", "rise", ...
>>> explanation.heatmap.shape, explanation.target, explanation.seconds

``model`` is an ildl.nn ``Sequential``, a ``torch.nn.Module`` or a bare predict function
``images (N, H, W, C) -> probabilities (N, K)``. Gradient methods (``gradcam``, ``saliency``,
``integrated_gradients``) need a model that can be differentiated, ``shap_gradient`` a torch
module; ``occlusion``, ``rise``, ``lime`` and ``shap`` only need predictions. lime, shap and
their image tools are optional: ``pip install "ildl[explain]"``.
"""

from .explanation import Explanation
from .methods import METHODS, explain
from .models import Classifier, as_classifier

__all__ = ["METHODS", "Classifier", "Explanation", "as_classifier", "explain"]
