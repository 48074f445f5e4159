import cv2
import numpy as np
import pytest
from PIL import Image

from inpaint_lightning.data.masks import FolderMasks, FreeFormMasks, dilate_holes
from inpaint_lightning.errors import DataNotFoundError


@pytest.mark.parametrize("size", [(32, 32), (64, 48), (128, 128)])
@pytest.mark.parametrize("hole_range", [(0.05, 0.2), (0.2, 0.5)])
def test_free_form_hole_ratio_within_range(size, hole_range):
    gen = FreeFormMasks(hole_range=hole_range)
    ratios = []
    for seed in range(40):
        mask = gen(*size, np.random.default_rng(seed))
        assert mask.shape == size and mask.dtype == np.float32
        assert set(np.unique(mask)) <= {0.0, 1.0}
        ratios.append(mask.mean())
    ratios = np.array(ratios)
    inside = (ratios >= hole_range[0]) & (ratios <= hole_range[1])
    assert inside.mean() >= 0.95, ratios  # the redraw loop lands in range almost always
    assert ratios.std() > 0.01  # and masks are not all alike


def test_free_form_same_seed_same_mask_different_seed_different_mask():
    gen = FreeFormMasks()
    a = gen(64, 64, np.random.default_rng([0, 2, 7]))
    b = gen(64, 64, np.random.default_rng([0, 2, 7]))
    c = gen(64, 64, np.random.default_rng([0, 2, 8]))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_free_form_rejects_bad_ranges():
    with pytest.raises(ValueError, match="hole_range"):
        FreeFormMasks(hole_range=(0.5, 0.1))
    with pytest.raises(ValueError, match="at least one stroke or one box"):
        FreeFormMasks(strokes=(0, 0), boxes=(0, 0))


def _write_masks(folder, count=3):
    folder.mkdir()
    for i in range(count):
        arr = np.zeros((20, 30), np.uint8)
        arr[:, : 10 * (i + 1)] = 200  # grey, not white: must be thresholded to 1
        arr[0, 0] = 90  # below threshold: stays 0
        Image.fromarray(arr).save(folder / f"m{i}.png")


def test_folder_masks_resize_threshold_invert(tmp_path):
    _write_masks(tmp_path / "masks")
    masks = FolderMasks(str(tmp_path / "masks"))
    m = masks(40, 60, np.random.default_rng(0), index=0, train=False)
    assert m.shape == (40, 60)
    assert set(np.unique(m)) == {0.0, 1.0}
    assert m[2:, :20].all() and not m[:, 20:].any()  # nearest 2x resize keeps the edge at 1/3
    assert not m[:2, :2].any()  # the one pixel below threshold, doubled
    inv = FolderMasks(str(tmp_path / "masks"), invert=True)(
        40, 60, np.random.default_rng(0), index=0, train=False
    )
    np.testing.assert_array_equal(inv, 1.0 - m)


def test_folder_masks_eval_pairs_by_index_train_draws_randomly(tmp_path):
    _write_masks(tmp_path / "masks")
    masks = FolderMasks(str(tmp_path / "masks"))
    areas = [masks(20, 30, np.random.default_rng(99), index=i, train=False).mean() for i in range(6)]
    assert areas[:3] == areas[3:] and len(set(areas[:3])) == 3  # index % count, same every call
    drawn = {masks(20, 30, np.random.default_rng(s), index=0, train=True).mean() for s in range(20)}
    assert len(drawn) == 3


def test_folder_masks_shuffle_seed_fixes_a_different_pairing(tmp_path):
    _write_masks(tmp_path / "masks")
    plain = FolderMasks(str(tmp_path / "masks"))
    pairs = {
        seed: [FolderMasks(str(tmp_path / "masks"), shuffle_seed=seed).files for _ in range(2)]
        for seed in (1, 2, 3)
    }
    assert all(a == b for a, b in pairs.values())  # deterministic per seed
    assert any(a != plain.files for a, _ in pairs.values()) and all(
        sorted(a) == plain.files for a, _ in pairs.values()
    )


def test_folder_masks_missing_or_empty_folder(tmp_path):
    with pytest.raises(DataNotFoundError, match="Mask folder not found"):
        FolderMasks(str(tmp_path / "nope"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataNotFoundError, match="no readable mask"):
        FolderMasks(str(tmp_path / "empty"))


def _disk(shape, center, radius):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return ((yy - center[0]) ** 2 + (xx - center[1]) ** 2 <= radius**2).astype(np.float32)


@pytest.mark.parametrize("radius", [1, 2, 5, 9])
def test_dilate_holes_grows_a_pixel_to_a_disk(radius):
    mask = np.zeros((25, 31), np.float32)
    mask[12, 15] = 1
    grown = dilate_holes(mask, radius)
    assert grown.dtype == np.float32 and grown.shape == mask.shape
    np.testing.assert_array_equal(grown, _disk(mask.shape, (12, 15), radius))
    corner = np.zeros((25, 31), np.float32)
    corner[0, 30] = 1  # a quarter disk: the border neither wraps nor counts as hole
    np.testing.assert_array_equal(dilate_holes(corner, radius), _disk(mask.shape, (0, 30), radius))


def test_dilate_holes_equals_dilation_by_a_disk_and_zero_is_identity():
    rng = np.random.default_rng(0)
    mask = (rng.random((40, 50)) > 0.97).astype(np.float32)
    mask[5:12, 20:35] = 1
    kernel = _disk((7, 7), (3, 3), 3).astype(np.uint8)
    expected = cv2.dilate(mask, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    np.testing.assert_array_equal(dilate_holes(mask, 3), expected)
    np.testing.assert_array_equal(dilate_holes(mask > 0, 3), expected)  # bool masks too
    assert dilate_holes(mask, 0) is mask
    np.testing.assert_array_equal(dilate_holes(np.zeros((6, 6), np.float32), 4), np.zeros((6, 6)))
    with pytest.raises(ValueError, match="dilate"):
        dilate_holes(mask, -1)


def test_preset_mixture_draws_each_preset_by_weight_and_is_seeded():
    from inpaint_lightning.data.mask_presets import PresetMixture, preset_masks

    only_boxes = PresetMixture(("thin", "boxes"), (0.0, 1.0))
    box = only_boxes(64, 64, np.random.default_rng(0))
    rng = np.random.default_rng(0)
    rng.choice(2, p=[0.0, 1.0])  # the mixture's own draw of a preset comes first
    assert box.sum() > 0 and np.array_equal(box, preset_masks("boxes")(64, 64, rng))
    mix = PresetMixture()
    a = [mix(64, 64, np.random.default_rng(s)) for s in range(20)]
    b = [mix(64, 64, np.random.default_rng(s)) for s in range(20)]
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    ratios = [m.mean() for m in a]
    assert min(ratios) < 0.15 and max(ratios) > 0.3  # thin strokes and thick strokes/boxes both appear
    with pytest.raises(ValueError):
        PresetMixture(("thin",), (1.0, 2.0))


def test_large_masks_are_seeded_cover_the_range_and_hide_more_than_thick_strokes():
    from inpaint_lightning.data.mask_presets import LargeMasks, preset_masks

    large = LargeMasks()

    def draw(seed: int) -> np.ndarray:
        return large(96, 128, np.random.default_rng(seed))

    assert np.array_equal(draw(3), draw(3)) and not np.array_equal(draw(3), draw(4))
    ratios = np.array([draw(s).mean() for s in range(120)])
    assert set(np.unique(draw(0))) <= {0.0, 1.0}
    assert ratios.min() < 0.3 and ratios.max() > 0.75 and (ratios >= 0.4).mean() > 0.5  # large, and varied
    thick = preset_masks("thick")
    assert ratios.mean() > np.mean([thick(96, 128, np.random.default_rng(s)).mean() for s in range(60)])
    banded = LargeMasks((0.2, 0.4))
    assert all(0.2 <= banded(64, 64, np.random.default_rng(s)).mean() < 0.4 for s in range(20))
    assert isinstance(preset_masks("large"), LargeMasks)
    with pytest.raises(ValueError):
        LargeMasks((0.5, 0.4))
