"""The model adapters: predictions in batches and counted, NHWC images sent to torch as NCHW,
and clear errors for bad input (image size and channels, target class, outputs that are not
probabilities, models that are not models)."""

import numpy as np
import pytest
from explain_reference import CLASSES, IMAGE_SHAPE, ildl_cnn, linear_softmax, nchw, torch_cnn

from ildl.explain import as_classifier, explain
from ildl.explain.models import FunctionClassifier, SequentialClassifier, TorchClassifier


def test_each_kind_of_model_gets_its_adapter(torch):
    assert isinstance(as_classifier(ildl_cnn()), SequentialClassifier)
    assert isinstance(as_classifier(torch_cnn(torch)), TorchClassifier)
    assert isinstance(as_classifier(linear_softmax()), FunctionClassifier)
    classifier = as_classifier(linear_softmax())
    assert as_classifier(classifier) is classifier
    with pytest.raises(TypeError, match=r"explain needs a pretrained model name .*, a model "
                                        r"file, an ildl.nn Sequential, .* but got int"):
        as_classifier(42)
    with pytest.raises(ValueError, match=r"unknown model 'efficientnet-lite' \(did you "
                                         r"mean 'efficientnet-lite0'\?\)"):
        as_classifier("efficientnet-lite")


def test_predictions_come_in_batches_and_are_counted(rng):
    sizes = []
    predict = linear_softmax()

    def recorded(images):
        sizes.append(len(images))
        return predict(images)

    classifier = as_classifier(recorded, batch_size=3)
    images = rng.random((7, *IMAGE_SHAPE))
    np.testing.assert_allclose(classifier.predict(images), predict(images), rtol=1e-14)
    assert sizes == [3, 3, 1] and classifier.evaluations == 7


def test_a_torch_module_sees_nchw_images(rng, torch):
    """Probabilities and input gradients equal the module's own on the NCHW tensor."""
    module = torch_cnn(torch, seed=1)
    classifier = as_classifier(module)
    images = rng.random((2, *IMAGE_SHAPE))
    tensor = torch.cat([nchw(torch, image) for image in images]).requires_grad_(True)
    probabilities = module(tensor)
    np.testing.assert_allclose(classifier.predict(images), probabilities.detach().numpy(),
                               rtol=1e-14)
    probabilities[:, 2].sum().backward()
    np.testing.assert_allclose(classifier.input_gradient(images, 2),
                               tensor.grad.numpy().transpose(0, 2, 3, 1), rtol=1e-12)
    assert classifier.evaluations == 4


def test_wrong_image_size_and_channels(rng, torch):
    model = ildl_cnn()
    with pytest.raises(ValueError, match=r"the model expects 12x12 images but the image is "
                                         r"16x12 \(shape \(16, 12, 3\)\); resize it to 12x12"):
        explain(model, rng.random((16, 12, 3)))
    with pytest.raises(ValueError, match=r"the model expects images with 3 channel\(s\) but the "
                                         r"image has 1 .*; repeat its channel: "
                                         r"np.repeat\(image, 3, axis=-1\)"):
        explain(model, rng.random((12, 12, 1)))
    with pytest.raises(ValueError, match=r"expects images with 3 channel\(s\) but the image has "
                                         r"4 .*give it the 3 channels the model was trained on"):
        explain(torch_cnn(torch), rng.random((12, 12, 4)))  # channels read from its first Conv2d
    with pytest.raises(ValueError, match=r"expects images with 1 channel\(s\) .* convert it to "
                                         r"grayscale"):
        explain(as_classifier(linear_softmax((12, 12, 1)), input_shape=(12, 12, 1)),
                rng.random((12, 12, 3)))


def test_a_torch_module_that_fails_on_the_image_size_says_so(rng, torch):
    twin_of_fixed_size = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12 * 12 * 3, 4),
                                             torch.nn.Softmax(dim=1)).double()
    with pytest.raises(ValueError, match=r"the torch module Sequential failed on images sent as "
                                         r"an NCHW tensor of shape \(1, 3, 10, 10\): .* Check "
                                         r"that the image has the size and channels"):
        explain(twin_of_fixed_size, rng.random((10, 10, 3)), method="occlusion")


def test_images_must_be_one_image_with_channels(rng):
    model = ildl_cnn()
    with pytest.raises(ValueError, match=r"explain takes one image \(H, W, C\) but got a batch "
                                         r"of shape \(1, 12, 12, 3\); pass image\[0\]"):
        explain(model, rng.random((1, 12, 12, 3)))
    with pytest.raises(ValueError, match=r"one image of shape \(height, width, channels\) but got "
                                         r"shape \(12, 12\); add the channel axis"):
        explain(model, rng.random((12, 12)))
    with pytest.raises(ValueError, match=r"image holds 1 NaN or infinite value"):
        image = rng.random(IMAGE_SHAPE)
        image[3, 4, 1] = np.nan
        explain(model, image)


@pytest.mark.parametrize("target", [4, -1, 100])
def test_target_out_of_range(target, rng):
    with pytest.raises(ValueError, match=rf"target class {target} is out of range: the model "
                                         rf"gives probabilities for 4 classes \(0 to 3\); pass "
                                         rf"one of them, or target=None"):
        explain(ildl_cnn(), rng.random(IMAGE_SHAPE), target=target)


def test_target_must_be_an_index(rng):
    with pytest.raises(TypeError, match=r"target must be a class index \(an int\) or None but "
                                        r"got 'cat'"):
        explain(ildl_cnn(), rng.random(IMAGE_SHAPE), target="cat")


def test_outputs_that_are_not_probabilities(rng, torch):
    image = rng.random(IMAGE_SHAPE)
    predict = linear_softmax()

    def logits(images):
        return np.log(predict(images))

    def unnormalised(images):
        return 2 * predict(images)

    def one_number(images):
        return predict(images)[:, 0]

    for function, what in ((logits, r"row 0 is \[-"), (unnormalised, r"row 0 is .*\(sum 2\)")):
        with pytest.raises(ValueError, match=rf"the predict function '{function.__name__}' does "
                                             rf"not return probabilities: {what}.* every row "
                                             rf"must be >= 0 and sum to 1.* end the model with a "
                                             rf"softmax"):
            explain(function, image, method="occlusion")
    with pytest.raises(ValueError, match=r"'one_number' returned shape \(1,\) for 1 image\(s\); "
                                         r"it must return probabilities of shape \(1, classes\)"):
        explain(one_number, image, method="occlusion")
    without_softmax = torch_cnn(torch)[:-1]
    with pytest.raises(ValueError, match=r"the torch module Sequential does not return "
                                         r"probabilities.*torch.nn.Sequential\(module, "
                                         r"torch.nn.Softmax\(dim=1\)\)"):
        explain(without_softmax, image)


def test_an_ildl_model_checks_a_given_input_shape():
    with pytest.raises(ValueError, match=r"input_shape=\(28, 28, 1\) was given but the ildl "
                                         r"model 'sequential' takes inputs of shape "
                                         r"\(12, 12, 3\); leave input_shape out"):
        as_classifier(ildl_cnn(), input_shape=(28, 28, 1))


def test_batch_size_must_be_positive():
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        as_classifier(linear_softmax(), batch_size=0)


def test_classes_are_counted_from_the_output(rng):
    assert explain(ildl_cnn(), rng.random(IMAGE_SHAPE), method="saliency"
                   ).probabilities.shape == (CLASSES,)


def test_a_torch_module_gets_a_channels_last_view_of_the_images(rng, torch):
    classifier = TorchClassifier(torch_cnn(torch))
    images = rng.random((2, *IMAGE_SHAPE))
    tensor = classifier.tensor(images)
    assert tensor.shape == (2, 3, *IMAGE_SHAPE[:2])
    assert tensor.is_contiguous(memory_format=torch.channels_last)  # no copy to NCHW memory
    np.testing.assert_array_equal(tensor.numpy(), images.transpose(0, 3, 1, 2))


def test_class_names_name_the_outputs():
    classifier = FunctionClassifier(linear_softmax(), class_names=["circle", "square", "star",
                                                                   "cross"])
    assert classifier.class_name(1) == "square"
    assert classifier.class_name(4) == "class 4"  # beyond the names: the index
    assert FunctionClassifier(linear_softmax()).class_name(2) == "class 2"


def test_a_torch_classifier_s_layer_names_grad_cam_s_default(rng, torch):
    module = torch_cnn(torch, seed=3)  # module[1]: the ReLU after the first convolution
    classifier = TorchClassifier(module, layer="1")
    images = rng.random((2, *IMAGE_SHAPE))
    activations, _ = classifier.activations_and_gradient(images, target=0)
    with torch.no_grad():
        expected = module[:2](torch.cat([nchw(torch, image) for image in images]))
    np.testing.assert_allclose(activations, expected.numpy().transpose(0, 2, 3, 1), rtol=1e-12)
