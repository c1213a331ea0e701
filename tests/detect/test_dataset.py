"""ildl.detect.dataset: a validated split, served as augmented samples and batches.

A split with nothing usable is refused saying what was found (and nothing on disk changes);
augmentation is reproducible per (seed, epoch, item); items and batches have the shapes PyTorch
expects; reading needs no torch.
"""

import numpy as np
import pytest
from detect_dataset_files import (
    GOOD_LABEL,
    NAMES,
    assert_says,
    cxcywh_to_xyxy,
    jpeg_cut_short,
    make_dataset,
    tiny_dataset,
    unchanged,
    xyxy_to_cxcywh,
)
from PIL import Image

from ildl.data.shapes import mask_boxes, read_masks, write_dataset
from ildl.detect.augment import Augment
from ildl.detect.dataset import DatasetError, DetectionDataset
from ildl.errors import DataError

pytest.importorskip("yaml")


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    """A small synthetic dataset: 8 train and 4 val images of 64 px."""
    return write_dataset(tmp_path_factory.mktemp("shapes"), n_train=8, n_val=4, size=64, seed=5)


def test_synthetic_dataset_reads_back_exactly(shapes):
    data = DetectionDataset(shapes, "train", imgsz=64, augment=False)
    assert len(data) == 8 and data.names == NAMES
    root = shapes.parent
    for example in data.split.examples:
        masks = read_masks(root / "masks" / "train" / (example.image.stem + ".png"))
        np.testing.assert_allclose(example.boxes, mask_boxes(masks), atol=1e-6)
        image, targets = data.sample(data.split.examples.index(example))
        np.testing.assert_array_equal(image, np.asarray(Image.open(example.image)))
        np.testing.assert_allclose(targets[:, 1:], mask_boxes(masks), atol=1e-5)
        np.testing.assert_array_equal(targets[:, 0], example.classes)
    assert data.summary()["problems"] == {} and data.summary()["skipped_images"] == 0


def test_missing_split_is_explained(tmp_path):
    path = tiny_dataset(tmp_path, [])
    with pytest.raises(DatasetError, match="no 'test' split"):
        DetectionDataset(path, "test")



def test_a_split_of_broken_images_is_refused_with_what_was_found(tmp_path):
    broken = {"a.png": (b"not an image", GOOD_LABEL), "b.jpg": (jpeg_cut_short(), GOOD_LABEL)}
    path = make_dataset(tmp_path, train=broken)
    with unchanged(tmp_path), pytest.raises(DatasetError) as error:
        DetectionDataset(path)
    assert isinstance(error.value, DataError)
    assert_says(str(error.value), f"{path}: split 'train' has no usable images",
                f"found 2 image files in {tmp_path / 'images' / 'train'}", "skipped all 2",
                "unreadable image 2", "images/train/a.png: unreadable image",
                "repair or replace them")


def test_an_empty_split_folder_is_refused(tmp_path):
    path = make_dataset(tmp_path, val={})
    (tmp_path / "images" / "val" / "notes.txt").write_text("not an image")
    with unchanged(tmp_path), pytest.raises(DatasetError) as error:
        DetectionDataset(path, "val")
    assert_says(str(error.value), f"{path}: split 'val' has no images",
                f"{tmp_path / 'images' / 'val'} holds no files ending in .bmp, .jpeg",
                "put the images there, or point 'val' in the yaml at the folder")
    assert len(DetectionDataset(path, "train")) == 1  # the other split is fine


def test_training_with_an_empty_val_split_never_starts(tmp_path):
    # it used to train, report mAP nan and "weights: best.pt" without ever writing best.pt
    pytest.importorskip("torch")
    from ildl.detect.train import train

    path = make_dataset(tmp_path / "data", val={})
    with unchanged(tmp_path), pytest.raises(DatasetError, match="split 'val' has no images"):
        train(str(path), epochs=1, imgsz=32, batch=1, out=str(tmp_path / "run"), verbose=False)
    assert not (tmp_path / "run").exists()


def test_a_split_without_objects_is_refused_and_says_where_labels_belong(tmp_path):
    images = {name: (Image.new("RGB", (40, 30)), None) for name in ("a.png", "b.png")}
    path = make_dataset(tmp_path, train=images)
    (tmp_path / "labels").rename(tmp_path / "annotations")  # a common mistake
    with unchanged(tmp_path), pytest.raises(DatasetError) as error:
        DetectionDataset(path)
    assert_says(str(error.value), "split 'train' has 2 images but no objects",
                "2 have no label file", f"{tmp_path / 'labels' / 'train' / 'a.txt'}",
                "put the label files there")


def test_a_split_whose_label_lines_are_all_bad_is_refused(tmp_path):
    path = make_dataset(tmp_path, train={"a.png": (Image.new("RGB", (40, 30)), "7 .5 .5 .1 .1\n")})
    with unchanged(tmp_path), pytest.raises(DatasetError) as error:
        DetectionDataset(path)
    assert_says(str(error.value), "has 1 images but no objects", "1 label lines were skipped",
                "class out of range 1", "labels/train/a.txt:1: class out of range")


def test_the_image_size_must_be_a_whole_number(tmp_path):
    path = make_dataset(tmp_path)
    for imgsz in ("64", 31, 64.0, True):
        with pytest.raises(ValueError, match="imgsz must be a whole number of pixels, at least"):
            DetectionDataset(path, imgsz=imgsz)



def test_augmented_samples_are_valid_reproducible_and_vary_by_epoch(shapes):
    data = DetectionDataset(shapes, "train", imgsz=64, seed=3)
    assert data.augment == Augment()
    first = [data.sample(i) for i in range(len(data))]
    again = [data.sample(i) for i in range(len(data))]
    data.set_epoch(1)
    other = [data.sample(i) for i in range(len(data))]
    for (image, targets), (image2, targets2) in zip(first, again):
        assert np.array_equal(image, image2) and np.array_equal(targets, targets2)
    assert any(not np.array_equal(a[0], b[0]) for a, b in zip(first, other))
    for image, targets in first + other:
        assert image.shape == (64, 64, 3) and image.dtype == np.uint8
        assert targets.shape[1] == 5 and np.all(np.isin(targets[:, 0], [0, 1, 2]))
        corners = cxcywh_to_xyxy(targets[:, 1:], 1, 1)
        assert np.all(corners >= -1e-6) and np.all(corners <= 1 + 1e-6)
        assert np.all(targets[:, 3:] * 64 >= 2 - 1e-4)
    assert DetectionDataset(shapes, "val", imgsz=64).augment is None


def test_cache_gives_the_same_samples(shapes):
    plain = DetectionDataset(shapes, "train", imgsz=64)
    cached = DetectionDataset(shapes, "train", imgsz=64, cache=True)
    for i in range(len(plain)):
        a, b = plain.sample(i), cached.sample(i)
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_cache_decodes_each_image_once(shapes, monkeypatch):
    """The scan decodes every image to check it; the cache keeps those pixels."""
    import ildl.detect.dataset as dataset_module
    import ildl.detect.images as images_module

    decoded, decode = [], images_module.load_image

    def counting(path):
        decoded.append(path)
        return decode(path)

    monkeypatch.setattr(images_module, "load_image", counting)
    monkeypatch.setattr(dataset_module, "load_image", counting)
    data = DetectionDataset(shapes, "train", imgsz=64, cache=True)
    for i in range(len(data)):
        data.sample(i)
    assert len(decoded) == len(set(decoded)) == len(data)


def test_box_conversions_round_trip():
    boxes = np.array([[0.5, 0.4, 0.2, 0.6], [0.1, 0.9, 0.05, 0.1]], dtype=np.float32)
    np.testing.assert_allclose(xyxy_to_cxcywh(cxcywh_to_xyxy(boxes, 40, 30), 40, 30), boxes,
                               atol=1e-6)


def test_items_and_collate(shapes):
    torch = pytest.importorskip("torch")
    from ildl.detect.dataset import collate

    data = DetectionDataset(shapes, "val", imgsz=64)
    image, targets = data[0]
    assert image.shape == (3, 64, 64) and image.dtype == torch.float32
    assert 0 <= image.min() and image.max() <= 1
    assert targets.dtype == torch.float32 and targets.shape[1] == 5
    empty = (torch.zeros(3, 64, 64), torch.zeros(0, 5))
    two = (torch.ones(3, 64, 64), torch.tensor([[1, .5, .5, .2, .2], [2, .3, .3, .1, .1]]))
    images, rows = collate([two, empty, two])
    assert images.shape == (3, 3, 64, 64) and rows.shape == (4, 6)
    assert rows[:, 0].tolist() == [0, 0, 2, 2] and rows[2, 1:].tolist() == two[1][0].tolist()
    assert collate([empty])[1].shape == (0, 6)
    loader = torch.utils.data.DataLoader(DetectionDataset(shapes, "train", imgsz=64),
                                         batch_size=3, collate_fn=collate)
    batches = list(loader)
    assert [b[0].shape[0] for b in batches] == [3, 3, 2]


def test_reading_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, ildl.detect.dataset; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)

