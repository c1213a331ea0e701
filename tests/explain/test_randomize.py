"""``randomized_copy``: an ildl copy equals a freshly built model, a torch copy is redrawn from
torch's default distribution; the original model never changes."""

import numpy as np
import pytest
from explain_reference import IMAGE_SHAPE, ildl_cnn, linear_softmax, torch_cnn

from ildl.explain.randomize import randomized_copy

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.*deprecated:DeprecationWarning")


def trained_looking(model):
    """The model with every weight moved away from its initialisation, as training would."""
    model.set_weights([weight + 0.5 for weight in model.get_weights()])
    return model


def test_ildl_copy_is_a_freshly_initialised_model():
    model = trained_looking(ildl_cnn(seed=0))
    before = model.get_weights()
    randomized = randomized_copy(model, seed=5)
    for ours, fresh in zip(randomized.get_weights(), ildl_cnn(seed=5).get_weights()):
        np.testing.assert_array_equal(ours, fresh)
    assert randomized.dtype == model.dtype and randomized.input_shape == model.input_shape
    assert [layer.get_config() for layer in randomized.layers] == \
        [layer.get_config() for layer in model.layers]
    for weight, kept in zip(model.get_weights(), before):
        np.testing.assert_array_equal(weight, kept)


def test_ildl_copy_builds_a_model_whose_first_layer_has_no_input_shape(rng):
    from ildl import nn

    model = nn.Sequential([nn.Conv2D(2, 3), nn.Flatten(), nn.Dense(3, activation="softmax")],
                          seed=0)
    model.build(IMAGE_SHAPE)
    randomized = randomized_copy(model, seed=1)
    assert randomized.built and randomized.input_shape == IMAGE_SHAPE
    assert randomized.predict(rng.random((2, *IMAGE_SHAPE))).shape == (2, 3)


def test_torch_copy_is_drawn_from_torchs_default_initialisation(torch):
    module = torch_cnn(torch)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.add_(5.0)  # far outside any initialisation bound
    before = [parameter.clone() for parameter in module.parameters()]
    randomized = randomized_copy(module, seed=3)
    again = randomized_copy(module, seed=3)
    layers = [layer for layer in randomized.modules()
              if isinstance(layer, torch.nn.Conv2d | torch.nn.Linear)]
    assert len(layers) == 3
    for layer in layers:
        fan_in = layer.weight[0].numel()
        for parameter in (layer.weight, layer.bias):
            assert parameter.abs().max() <= 1 / np.sqrt(fan_in)
        assert layer.weight.std() > 0.4 / np.sqrt(fan_in)  # spread: U(-b, b) has std 0.58 b
    for ours, same in zip(randomized.parameters(), again.parameters()):
        assert torch.equal(ours, same)
    for parameter, kept in zip(module.parameters(), before):
        assert torch.equal(parameter, kept)


def test_torchscript_modules_are_randomised_too(torch, rng):
    scripted = torch.jit.script(torch_cnn(torch))
    randomized = randomized_copy(scripted, seed=0)
    assert all(parameter.is_leaf for parameter in randomized.parameters())
    images = torch.tensor(rng.random((4, 3, 12, 12)))
    assert not torch.allclose(randomized(images), scripted(images))
    first = dict(randomized.named_parameters())["0.weight"]
    assert first.abs().max() <= 1 / np.sqrt(3 * 3 * 3)


def test_a_predict_function_cannot_be_randomised():
    with pytest.raises(TypeError, match="a bare predict function has no weights to randomise"):
        randomized_copy(linear_softmax())
