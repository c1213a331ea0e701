"""ildl.explain.preprocessing: the centre crop and bicubic resize against torchvision's pipeline
computed with torch's own antialiased bicubic (Resize(256) then CenterCrop(224)), and the
normalisation inside every kind of classifier against an explicit ``(x - mean) / std`` followed
by the model (predictions, and gradients with respect to the [0, 1] pixels by autograd)."""

import numpy as np
import pytest
from explain_reference import CLASSES, IMAGE_SHAPE, ildl_cnn, linear_softmax, torch_cnn, torch_twin

from ildl.explain import as_classifier
from ildl.explain.preprocessing import IMAGENET_MEAN, IMAGENET_STD, Preprocessing

MEAN, STD = (0.3, 0.5, 0.7), (0.2, 0.25, 0.5)  # unlike each other, so a swap would show


def _smooth_photo(height, width):
    """A smooth colour picture in [0.1, 0.9]: bicubic's overshoot never reaches 0 or 1, so no
    pixel is clipped and the resize can be compared exactly."""
    rows, columns = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    channels = [np.sin(rows / 7 + phase) * np.cos(columns / 11 - phase) for phase in (0, 1, 2)]
    return 0.5 + 0.4 * np.stack(channels, axis=-1)


def _resize_then_centre_crop(torch, photo, resized, crop):
    """torchvision's evaluation transform, written with torch: resize the whole photo to
    ``resized`` (height, width) with antialiased bicubic (Pillow's kernel), then cut the centred
    ``crop`` x ``crop`` square."""
    tensor = torch.tensor(photo.transpose(2, 0, 1)[None])
    small = torch.nn.functional.interpolate(tensor, size=resized, mode="bicubic",
                                            antialias=True)[0].numpy().transpose(1, 2, 0)
    top, left = (resized[0] - crop) // 2, (resized[1] - crop) // 2
    return small[top:top + crop, left:left + crop]


@pytest.mark.parametrize("shape", [(512, 640), (640, 512)])
def test_crop_and_resize_is_resize_256_then_centre_crop_224(torch, shape):
    # 224 / 256 of the shorter side (448 px) is kept, and halved to 224 px: the same image as
    # halving the whole photo, then cutting the centred 224 x 224
    photo = _smooth_photo(*shape)
    image = Preprocessing(size=224).crop_and_resize(photo)
    expected = _resize_then_centre_crop(torch, photo, (shape[0] // 2, shape[1] // 2), 224)
    assert image.shape == (224, 224, 3) and image.dtype == np.float64
    np.testing.assert_allclose(image, expected, atol=1e-6)  # Pillow resizes in float32


def test_a_crop_at_scale_one_is_the_centre_of_the_photo_exactly(rng):
    # 256 x 320: the crop keeps 224 of the 256 rows, so nothing is resized; it starts
    # (256 - 224) / 2 = 16 rows and (320 - 224) / 2 = 48 columns in
    photo = rng.integers(0, 256, size=(256, 320, 3), dtype=np.uint8)
    image = Preprocessing(size=224).crop_and_resize(photo)
    np.testing.assert_allclose(image, photo[16:240, 48:272] / 255, atol=1e-6)


def test_crop_one_resizes_the_whole_shorter_side(torch):
    photo = _smooth_photo(96, 160)
    image = Preprocessing(size=48, crop=1.0).crop_and_resize(photo)
    np.testing.assert_allclose(image, _resize_then_centre_crop(torch, photo, (48, 80), 48),
                               atol=1e-6)


def test_a_photo_already_at_the_size_is_taken_as_it_is(rng):
    photo = rng.integers(0, 256, size=(224, 224, 3), dtype=np.uint8)
    np.testing.assert_array_equal(Preprocessing(size=224).crop_and_resize(photo), photo / 255)
    floats = rng.random((30, 40, 3))
    np.testing.assert_array_equal(Preprocessing(size=None).crop_and_resize(floats), floats)


def test_uint8_and_unit_float_photos_give_the_same_image(rng):
    photo = rng.integers(0, 256, size=(60, 80, 3), dtype=np.uint8)
    preprocessing = Preprocessing(size=32)
    np.testing.assert_allclose(preprocessing.crop_and_resize(photo),
                               preprocessing.crop_and_resize(photo / 255), atol=1e-6)


def test_pixels_stay_in_0_1_where_bicubic_overshoots():
    photo = np.zeros((64, 64, 3), np.uint8)
    photo[:, 32:] = 255  # a sharp edge: bicubic rings below 0 and above 1 next to it
    image = Preprocessing(size=24, crop=1.0).crop_and_resize(photo)
    assert image.min() == 0 and image.max() == 1


def test_a_grey_photo_keeps_its_one_channel(rng):
    photo = rng.integers(0, 256, size=(40, 50, 1), dtype=np.uint8)
    assert Preprocessing(size=16).crop_and_resize(photo).shape == (16, 16, 1)


@pytest.mark.parametrize("photo, said", [
    (np.zeros((30, 40), np.uint8), r"an \(H, W, 3\) RGB array .* has shape \(30, 40\); read "
                                   r"files with ildl.explain.read_photo\(path\)"),
    (np.zeros((30, 40, 4), np.uint8), r"has shape \(30, 40, 4\)"),
    (np.zeros((0, 0, 3), np.uint8), r"a photo must have pixels"),
    (np.full((30, 40, 3), 255.0), r"uint8 pixels \(0..255\) or floats in \[0, 1\], but this "
                                  r"one is float64 from 255.0 to 255.0; divide by the "
                                  r"brightest possible value"),
    (np.full((30, 40, 3), np.nan), r"float64 from nan to nan"),
    (np.zeros((30, 40, 3), np.uint16), r"uint16 from 0 to 0"),
])
def test_photos_that_are_not_photos_are_refused(photo, said):
    with pytest.raises(ValueError, match=said):
        Preprocessing().crop_and_resize(photo)


@pytest.mark.parametrize("arguments, said", [
    (dict(size=0), r"size \(pixels, or None for any size\) must be an integer >= 1, got 0"),
    (dict(size=True), r"got True \(bool\)"),
    (dict(crop=0), r"crop \(the share of the shorter side kept\) must be a number in \(0, 1\]"),
    (dict(crop="big"), r"got 'big' \(str\)"),
    (dict(mean=(0.5, 0.5), std=(0.5,)), r"mean and std need one value per channel"),
    (dict(mean=(), std=()), r"mean and std need one value per channel"),
    (dict(mean=(0.5,), std=(0,)), r"each std must be a number > 0, got 0"),
    (dict(mean=(float("nan"),), std=(1,)), r"each mean must be a finite number, got nan"),
])
def test_bad_preprocessing_arguments_are_refused(arguments, said):
    with pytest.raises(ValueError, match=rf"^Preprocessing: .*{said}"):
        Preprocessing(**arguments)


def test_equal_preprocessings_are_equal_whatever_sequence_held_them():
    listed = Preprocessing(mean=list(IMAGENET_MEAN), std=list(IMAGENET_STD))
    assert listed == Preprocessing() and hash(listed) == hash(Preprocessing())


def test_normalize_is_per_channel():
    images = np.array([[[[0.3, 0.5, 0.7], [0.5, 0.75, 1.2]]]])
    np.testing.assert_allclose(Preprocessing(mean=MEAN, std=STD).normalize(images),
                               [[[[0, 0, 0], [1, 1, 1]]]], atol=1e-15)


def _normalised(torch, pixels):
    """``(pixels - MEAN) / STD`` on NCHW float64 tensors."""
    shape = (1, 3, 1, 1)
    return (pixels - torch.tensor(MEAN, dtype=torch.float64).reshape(shape)) / torch.tensor(
        STD, dtype=torch.float64).reshape(shape)


def test_a_torch_classifier_normalises_inside_its_graph(rng, torch):
    """Probabilities and gradients with respect to the [0, 1] pixels equal autograd through an
    explicit normalisation followed by the module."""
    module = torch_cnn(torch, seed=2)
    classifier = as_classifier(module, preprocessing=Preprocessing(size=None, mean=MEAN, std=STD))
    images = rng.random((3, *IMAGE_SHAPE))
    pixels = torch.tensor(images.transpose(0, 3, 1, 2), requires_grad=True)
    probabilities = module(_normalised(torch, pixels))
    probabilities[:, 1].sum().backward()
    np.testing.assert_allclose(classifier.predict(images), probabilities.detach().numpy(),
                               rtol=1e-12)
    np.testing.assert_allclose(classifier.input_gradient(images, 1),
                               pixels.grad.numpy().transpose(0, 2, 3, 1), rtol=1e-10,
                               atol=1e-14)


def test_an_ildl_classifier_normalises_and_chains_the_gradient(rng, torch):
    # the ildl CNN's torch twin (same weights) behind an explicit normalisation is the reference
    model = ildl_cnn(seed=4)
    classifier = as_classifier(model, preprocessing=Preprocessing(size=None, mean=MEAN, std=STD))
    images = rng.random((2, *IMAGE_SHAPE))
    pixels = torch.tensor(images.transpose(0, 3, 1, 2), requires_grad=True)
    probabilities = torch_twin(torch, model)(_normalised(torch, pixels))
    probabilities[:, CLASSES - 1].sum().backward()
    np.testing.assert_allclose(classifier.predict(images), probabilities.detach().numpy(),
                               rtol=1e-10)
    np.testing.assert_allclose(classifier.input_gradient(images, CLASSES - 1),
                               pixels.grad.numpy().transpose(0, 2, 3, 1), rtol=1e-8,
                               atol=1e-14)


def test_a_predict_function_receives_normalised_images(rng):
    predict = linear_softmax()
    classifier = as_classifier(predict, preprocessing=Preprocessing(size=None, mean=MEAN,
                                                                    std=STD))
    images = rng.random((4, *IMAGE_SHAPE))
    np.testing.assert_allclose(classifier.predict(images),
                               predict((images - np.array(MEAN)) / np.array(STD)), rtol=1e-14)


def test_prepare_crops_and_resizes_for_the_model(rng, torch):
    classifier = as_classifier(torch_cnn(torch), preprocessing=Preprocessing(size=12))
    photo = rng.integers(0, 256, size=(30, 50, 3), dtype=np.uint8)
    np.testing.assert_array_equal(classifier.prepare(photo),
                                  Preprocessing(size=12).crop_and_resize(photo))
    assert classifier.input_shape == (12, 12, 3)
