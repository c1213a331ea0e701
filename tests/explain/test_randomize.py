"""``randomized_copy``: an ildl copy equals a freshly built model, a torch copy is redrawn from
torch's default distribution; the cascade randomises exactly the layers it names, from the top
down, cumulatively; the original model never changes."""

import numpy as np
import pytest
from explain_reference import CLASSES, IMAGE_SHAPE, ildl_cnn, linear_softmax, torch_cnn

from ildl.explain.randomize import (
    cascade_counts,
    cascading_randomization,
    layers_top_down,
    randomized_copy,
)

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


def blocks_net(torch):
    """stem -> blocks (a Sequential of three convolutions) -> pool (no parameters) -> head ->
    norm -> classifier: the shape of EfficientNet, small."""
    torch.manual_seed(0)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = torch.nn.Conv2d(3, 4, 3, padding=1)
            self.blocks = torch.nn.Sequential(*(torch.nn.Conv2d(4, 4, 3, padding=1)
                                                for _ in range(3)))
            self.pool = torch.nn.AdaptiveAvgPool2d(1)
            self.head = torch.nn.Conv2d(4, 6, 1)
            self.norm = torch.nn.BatchNorm2d(6)
            self.classifier = torch.nn.Linear(6, CLASSES)

        def forward(self, images):
            features = self.norm(self.head(self.pool(self.blocks(self.stem(images)))))
            return self.classifier(features.flatten(1))

    return Net().double()


def test_layers_top_down_open_containers_and_list_only_layers_with_a_kernel(torch):
    """pool has no parameters, norm no kernel: the randomisation would leave both as they are."""
    assert layers_top_down(blocks_net(torch)) == \
        ["classifier", "head", "blocks.2", "blocks.1", "blocks.0", "stem"]


def test_efficientnet_is_randomised_from_the_classifier_down_to_the_stem():
    pytest.importorskip("torch")
    from ildl.explain.efficientnet_lite import EfficientNetLite0

    network = EfficientNetLite0()
    order = layers_top_down(network)
    assert order == ["classifier", "head", *(f"blocks.{i}" for i in range(15, -1, -1)), "stem"]
    assert cascade_counts(len(order)) == [1, 2, 4, 8, 16, 19]


def test_cascade_counts_double_then_end_with_every_layer():
    assert cascade_counts(1) == [1]
    assert cascade_counts(7) == [1, 2, 4, 7]
    assert cascade_counts(8) == [1, 2, 4, 8]
    with pytest.raises(ValueError, match="at least one layer with a kernel"):
        cascade_counts(0)


def test_cascade_randomises_exactly_the_layers_it_names_and_keeps_the_model(torch):
    """At each step: the named layers' kernels and biases differ from the model's, are those of
    the step before where they were already random (cumulative), and lie in torch's default
    bounds; every other parameter and buffer (batch-norm's too) equals the model's."""
    module = blocks_net(torch)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.add_(5.0)  # far outside any initialisation bound
    before = {name: value.clone() for name, value in module.state_dict().items()}
    steps = []
    for names, copy in cascading_randomization(module, seed=3, counts=[1, 2, 6]):
        assert copy is not module
        steps.append((list(names), {key: value.clone() for key, value in
                                    copy.state_dict().items()}))
    assert [names for names, _ in steps] == [
        ["classifier"], ["classifier", "head"],
        ["classifier", "head", "blocks.2", "blocks.1", "blocks.0", "stem"]]
    previous = before
    for names, state in steps:
        for key, value in state.items():
            layer = key.rpartition(".")[0]
            if layer in names:
                assert not torch.equal(value, before[key]), key
                fan_in = state[f"{layer}.weight"][0].numel()
                assert value.abs().max() <= 1 / np.sqrt(fan_in), key
                if not torch.equal(previous[key], before[key]):  # random one step earlier
                    assert torch.equal(value, previous[key]), key
            else:
                assert torch.equal(value, before[key]), key
        previous = state
    for key, value in module.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_cascade_is_seeded_and_checks_its_counts(torch):
    module = blocks_net(torch)
    first = [copy.stem.weight.clone() for _, copy in cascading_randomization(module, seed=1)]
    again = [copy.stem.weight.clone() for _, copy in cascading_randomization(module, seed=1)]
    assert torch.equal(first[-1], again[-1]) and not torch.equal(first[-1], module.stem.weight)
    for counts in ([], [2, 1], [1, 7], [0, 3]):
        with pytest.raises(ValueError, match="counts must increase from 1 to at most 6"):
            list(cascading_randomization(module, counts=counts))
    with pytest.raises(TypeError, match="cascading_randomization needs a torch.nn.Module"):
        list(cascading_randomization(linear_softmax()))
