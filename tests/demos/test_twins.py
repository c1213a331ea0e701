"""demos.twins: a torch model given an ildl model's weights computes its outputs, for dense and
convolutional layers and a Dense after Flatten (whose rows torch reads in (C, H, W) order)."""

import numpy as np
import pytest

from ildl import nn
from ildl.demos.twins import copy_weights_to_torch
from ildl.errors import ArgumentError


def test_the_torch_twin_computes_the_ildl_models_outputs(torch):
    model = nn.Sequential([nn.Conv2D(3, 3, padding="same", activation="relu",
                                     input_shape=(5, 4, 2)),
                           nn.Flatten(), nn.Dense(6, activation="relu"), nn.Dense(2)],
                          seed=0, dtype="float64")
    twin = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3, padding=1), torch.nn.ReLU(),
                               torch.nn.Flatten(), torch.nn.Linear(60, 6), torch.nn.ReLU(),
                               torch.nn.Linear(6, 2)).double()
    copy_weights_to_torch(model, twin)
    x = np.random.default_rng(0).normal(size=(4, 5, 4, 2))
    with torch.no_grad():
        theirs = twin(torch.from_numpy(x.transpose(0, 3, 1, 2).copy())).numpy()
    np.testing.assert_allclose(theirs, model.predict(x), rtol=1e-12, atol=1e-12)


def test_a_layer_without_bias_copies_into_a_module_without_bias(torch):
    model = nn.Sequential([nn.Dense(2, use_bias=False, input_shape=(3,))], seed=0,
                          dtype="float64")
    twin = torch.nn.Linear(3, 2, bias=False).double()
    copy_weights_to_torch(model, twin)
    x = np.random.default_rng(1).normal(size=(4, 3))
    with torch.no_grad():
        np.testing.assert_allclose(twin(torch.from_numpy(x)).numpy(), model.predict(x),
                                   rtol=1e-12)


@pytest.mark.parametrize("modules, message", [
    (lambda torch: [torch.nn.Linear(3, 2), torch.nn.Linear(2, 2)],
     r"has 1 Dense/Conv2D layer\(s\) but the torch model has 2"),
    (lambda torch: [torch.nn.Linear(3, 5)], r"weight shape \(2, 3\).*weight \(5, 3\)"),
    (lambda torch: [torch.nn.Linear(3, 2, bias=False)], "bias True"),
])
def test_a_twin_that_does_not_match_is_refused_with_what_differs(torch, modules, message):
    model = nn.Sequential([nn.Dense(2, input_shape=(3,))], seed=0)
    with pytest.raises(ArgumentError, match=message):
        copy_weights_to_torch(model, torch.nn.Sequential(*modules(torch)))


def test_a_model_with_other_weighted_layers_is_refused_by_name(torch):
    model = nn.Sequential([nn.Dense(4, input_shape=(3,)), nn.BatchNormalization(), nn.Dense(2)],
                          seed=0)
    twin = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4),
                               torch.nn.Linear(4, 2))
    with pytest.raises(ArgumentError, match="has BatchNormalization 'batchnormalization'"):
        copy_weights_to_torch(model, twin)
