import warnings

import cv2
import numpy as np
import pytest
from PIL import Image

from inpaint_lightning.data.io import (
    UnreadableImageError,
    filter_readable,
    list_images,
    read_image,
    read_mask,
)


def test_greyscale_becomes_three_equal_channels(tmp_path):
    grey = np.arange(0, 240, dtype=np.uint8).reshape(12, 20)
    Image.fromarray(grey, mode="L").save(tmp_path / "g.png")
    rgb = read_image(tmp_path / "g.png")
    assert rgb.shape == (12, 20, 3) and rgb.dtype == np.uint8
    for c in range(3):
        np.testing.assert_array_equal(rgb[:, :, c], grey)


def test_rgba_is_composited_over_white(tmp_path):
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 200  # red
    rgba[:2, :, 3] = 255  # top half opaque, bottom half fully transparent
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "a.png")
    rgb = read_image(tmp_path / "a.png")
    np.testing.assert_array_equal(rgb[0, 0], [200, 0, 0])
    np.testing.assert_array_equal(rgb[3, 0], [255, 255, 255])


def test_palette_image_is_expanded(tmp_path):
    img = Image.new("P", (5, 3))
    img.putpalette([10, 20, 30, 200, 100, 50] + [0] * 762)
    img.putpixel((1, 1), 1)
    img.save(tmp_path / "p.png")
    rgb = read_image(tmp_path / "p.png")
    np.testing.assert_array_equal(rgb[0, 0], [10, 20, 30])
    np.testing.assert_array_equal(rgb[1, 1], [200, 100, 50])


def test_16bit_grey_and_colour_are_scaled_not_clipped(tmp_path):
    grey16 = np.array([[0, 257 * 100, 65535]], dtype=np.uint16)
    Image.fromarray(grey16).save(tmp_path / "g16.png")
    np.testing.assert_array_equal(read_image(tmp_path / "g16.png")[0, :, 0], [0, 100, 255])
    bgr16 = np.zeros((2, 3, 3), np.uint16)
    bgr16[..., 2] = 257 * 50  # red channel (OpenCV writes BGR)
    bgr16[..., 0] = 65535  # blue
    cv2.imwrite(str(tmp_path / "c16.png"), bgr16)
    rgb = read_image(tmp_path / "c16.png")
    np.testing.assert_array_equal(rgb[0, 0], [50, 0, 255])


@pytest.mark.parametrize("kind", ["empty", "garbage", "truncated"])
def test_broken_files_raise_unreadable(tmp_path, kind):
    path = tmp_path / "bad.jpg"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "garbage":
        path.write_bytes(b"this is not a jpeg" * 10)
    else:
        Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)).save(
            path, quality=95
        )
        path.write_bytes(path.read_bytes()[:600])
    with pytest.raises(UnreadableImageError, match="bad.jpg"):
        read_image(path)


def test_filter_readable_warns_once_with_names_and_count(tmp_path, caplog):
    Image.new("RGB", (8, 8)).save(tmp_path / "ok.png")
    (tmp_path / "zero.png").write_bytes(b"")
    (tmp_path / "junk.jpg").write_bytes(b"junk")
    (tmp_path / "notes.txt").write_text("ignored: not an image extension")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # `python -W ignore`: the skip message must still reach the user
        good = filter_readable(list_images(tmp_path))
    assert [p.name for p in good] == ["ok.png"]
    assert len(caplog.records) == 1 and caplog.records[0].levelname == "WARNING"
    message = caplog.records[0].getMessage()
    assert "2 unreadable" in message and "zero.png" in message and "junk.jpg" in message


def test_read_mask_threshold_resize_invert(tmp_path):
    arr = np.array([[0, 100, 140, 255]], dtype=np.uint8).repeat(2, axis=0)
    Image.fromarray(arr).save(tmp_path / "m.png")
    np.testing.assert_array_equal(read_mask(tmp_path / "m.png")[0], [0, 0, 1, 1])
    np.testing.assert_array_equal(read_mask(tmp_path / "m.png", invert=True)[0], [1, 1, 0, 0])
    big = read_mask(tmp_path / "m.png", size=(4, 8))
    assert big.shape == (4, 8) and set(np.unique(big)) == {0.0, 1.0}
