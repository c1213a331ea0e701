"""One name lookup for the five Keras-style options: activations, initializers, losses,
regularizers and optimizers resolve names the same way (any case, aliases, objects passed
through, {"name", "config"} dicts), serialise to one form, and explain an unknown name with the
valid ones and the closest."""

import json

import numpy as np
import pytest

from ildl import errors
from ildl.nn import activations, initializers, losses, optimizers, regularizers

MODULES = {"activation": activations, "initializer": initializers, "loss": losses,
           "regularizer": regularizers, "optimizer": optimizers}

# A name of each kind, written as a user might, and the class it must give.
SPELLINGS = [
    (activations, "ReLU", activations.ReLU),
    (activations, "SILU", activations.Swish),              # alias
    (initializers, "He_Normal", initializers.HeNormal),
    (losses, "Binary_CrossEntropy", losses.BinaryCrossentropy),
    (losses, "Mean_Squared_Error", losses.MeanSquaredError),  # alias
    (regularizers, "L2", regularizers.L2),
    (optimizers, "Adam", optimizers.Adam),
    (optimizers, "RMSprop", optimizers.RMSprop),
]


@pytest.mark.parametrize("module, name, cls", SPELLINGS)
def test_names_ignore_case_and_aliases_resolve(module, name, cls):
    assert type(module.get(name)) is cls
    assert name.lower() in module.names()


# One configured object of every kind: serialize -> JSON -> deserialize gives an equal twin.
CONFIGURED = [
    (activations, activations.LeakyReLU(0.05)),
    (activations, activations.GELU(approximate=True)),
    (initializers, initializers.RandomUniform(-0.5, 0.25)),
    (initializers, initializers.VarianceScaling(2.0, "fan_out", "uniform")),
    (initializers, initializers.he_uniform),
    (losses, losses.CategoricalCrossentropy()),
    (regularizers, regularizers.L1L2(0.01, 0.2)),
    (regularizers, regularizers.L1(0.3)),
    (optimizers, optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True)),
    (optimizers, optimizers.AdamW(weight_decay=0.1, amsgrad=True)),
]


@pytest.mark.parametrize("module, obj", CONFIGURED, ids=lambda value: getattr(value, "name", ""))
def test_one_serialized_form_for_every_kind(module, obj):
    description = module.serialize(obj)
    assert set(description) == {"name", "config"} and description["name"] == obj.name
    description = json.loads(json.dumps(description))  # as it is stored in a model file
    for rebuilt in (module.deserialize(description), module.get(description)):
        assert type(rebuilt) is type(obj)
        assert rebuilt.get_config() == obj.get_config()


def test_deserialized_objects_behave_like_the_originals():
    weights = np.array([[-2.0, 0.5], [1.5, -0.25]])
    twin = regularizers.deserialize(regularizers.serialize(regularizers.L1L2(0.1, 0.2)))
    assert twin.penalty(weights) == pytest.approx(0.1 * 4.25 + 0.2 * 6.5625)
    uniform = initializers.get({"name": "random_uniform", "config": {"minval": 2, "maxval": 3}})
    draws = uniform((200,), np.random.default_rng(0))
    assert draws.min() >= 2 and draws.max() <= 3
    leaky = activations.get({"name": "LEAKY_RELU", "config": {"negative_slope": 0.5}})
    np.testing.assert_array_equal(leaky(np.array([-2.0, 3.0])), [-1.0, 3.0])


@pytest.mark.parametrize("kind", sorted(MODULES))
def test_objects_pass_through(kind):
    module = MODULES[kind]
    obj = module.get(module.names()[0])
    assert module.get(obj) is obj


@pytest.mark.parametrize("module, typo, closest", [
    (activations, "reul", "relu"),
    (initializers, "glorot_unifrom", "glorot_uniform"),
    (losses, "binary_crossentropyy", "binary_crossentropy"),
    (regularizers, "l_2", "l2"),
    (optimizers, "adma", "adam"),
])
def test_unknown_names_list_the_valid_ones_and_suggest_the_closest(module, typo, closest):
    with pytest.raises(errors.ArgumentError) as error:
        module.get(typo)
    message = str(error.value)
    assert repr(typo) in message                             # what
    assert f"did you mean {closest!r}?" in message            # the fix
    assert all(name in message for name in module.names())   # what is expected


@pytest.mark.parametrize("kind", sorted(MODULES))
@pytest.mark.parametrize("bad, words", [
    (42, ["int", "42", "by name"]),
    (True, ["bool", "True"]),
    ({"config": {}}, ["'name'", "'config'"]),
    ({"name": "x", "config": {}, "extra": 1}, ["'name'", "'config'"]),
])
def test_identifiers_of_the_wrong_shape_are_explained(kind, bad, words):
    with pytest.raises(errors.ArgumentError) as error:
        MODULES[kind].get(bad)
    assert all(word in str(error.value) for word in words), str(error.value)


@pytest.mark.parametrize("module, description, words", [
    (optimizers, {"name": "adam", "config": {"lr": 0.1}},
     ["optimizer 'adam'", "learning_rate", "lr"]),
    (activations, {"name": "elu", "config": ["alpha"]}, ["activation 'elu'", "alpha"]),
    (regularizers, {"name": "l2", "config": {"l1": 0.1}}, ["regularizer 'l2'", "(l2)"]),
])
def test_configs_with_unknown_arguments_name_the_accepted_ones(module, description, words):
    with pytest.raises(errors.ArgumentError) as error:
        module.deserialize(description)
    assert all(word in str(error.value) for word in words), str(error.value)


@pytest.mark.parametrize("module, description, words", [
    (optimizers, {"name": "sgd", "config": {"learning_rate": "fast"}}, ["learning_rate", "str"]),
    (optimizers, {"name": "adam", "config": {"amsgrad": "yes"}}, ["amsgrad", "True or False"]),
    (activations, {"name": "leaky_relu", "config": {"negative_slope": None}},
     ["negative_slope", "None"]),
    (regularizers, {"name": "l1", "config": {"l1": -1}}, ["l1", ">= 0"]),
    (initializers, {"name": "variance_scaling", "config": {"mode": "fan_sideways"}},
     ["mode", "fan_sideways", "fan_in"]),
])
def test_configs_with_bad_values_are_refused_by_the_constructors(module, description, words):
    with pytest.raises(errors.ArgumentError) as error:
        module.deserialize(description)
    assert all(word in str(error.value) for word in words), str(error.value)


def test_none_means_no_activation_and_no_regularizer():
    x = np.array([-1.0, 2.0])
    np.testing.assert_array_equal(activations.get(None)(x), x)
    assert regularizers.get(None) is None and regularizers.serialize(None) is None
