import numpy as np
import pytest
import torch
from PIL import Image

from inpaint_lightning.data import FolderMasks, FreeFormMasks, HoleCorruption, ImageDataModule
from inpaint_lightning.data.dataset import EpochSampler
from inpaint_lightning.data.sources import EMBEDDED_SCENES, embedded_splits, folder_splits, split_indices
from inpaint_lightning.errors import DataNotFoundError


def _dm(**kw) -> ImageDataModule:
    dm = ImageDataModule(**{"image_size": 32, "batch_size": 4, "num_workers": 0, "embedded_tile": 64, **kw})
    dm.setup("fit")
    return dm


def test_embedded_batches_have_documented_keys_ranges_and_composition():
    dm = _dm()
    batch = next(iter(dm.train_dataloader()))
    image, mask, masked = batch["target"], batch["mask"], batch["input"]
    assert image.shape == (4, 3, 32, 32) and mask.shape == (4, 1, 32, 32) and masked.shape == image.shape
    assert image.dtype == mask.dtype == torch.float32
    assert image.min() >= 0 and image.max() <= 1 and image.std() > 0.05  # real photo content, in [0, 1]
    assert set(mask.unique().tolist()) == {0.0, 1.0}
    torch.testing.assert_close(masked, image * (1 - mask))
    assert 0.03 < mask.mean() < 0.55


def test_validation_masks_identical_across_epochs_and_runs():
    def val_masks(dm):
        return torch.cat([b["mask"] for b in dm.val_dataloader()])

    a, b = _dm(), _dm(seed=123)  # a different training seed must not change validation
    first = val_masks(a)
    torch.testing.assert_close(first, val_masks(a))
    torch.testing.assert_close(first, val_masks(b))
    assert first.flatten(1).mean(1).std() > 0  # and masks differ between samples


def test_training_samples_change_per_epoch_but_replay_exactly():
    dm = _dm(seed=0)
    ds = dm.datasets["train"]
    n = len(ds)
    e0, e0_again, e1 = ds[3], ds[3], ds[n + 3]  # same item: epoch 0 twice, then epoch 1
    torch.testing.assert_close(e0["mask"], e0_again["mask"])
    torch.testing.assert_close(e0["target"], e0_again["target"])
    assert not torch.equal(e0["mask"], e1["mask"])


def test_worker_layout_does_not_change_batches():
    def first_batches(workers):
        dm = _dm(seed=5, num_workers=workers)
        it = iter(dm.train_dataloader())
        return [next(it)["input"] for _ in range(2)]

    for a, b in zip(first_batches(0), first_batches(2), strict=True):
        torch.testing.assert_close(a, b)


def test_epoch_sampler_shards_and_skips():
    ds = list(range(10))
    s0, s1 = (
        EpochSampler(ds, num_replicas=2, rank=0, seed=1),
        EpochSampler(ds, num_replicas=2, rank=1, seed=1),
    )
    s0.set_epoch(2)
    s1.set_epoch(2)
    a, b = list(s0), list(s1)
    assert sorted(i - 20 for i in a + b) == list(range(10))  # epoch encoded, disjoint, complete
    s0.skip = 2
    assert list(s0) == a[2:]
    assert list(s0) == a  # skipping applies to one pass only


def test_embedded_validation_is_held_out_scene_tiles_photo_after_photo():
    splits = embedded_splits(64, 0.1, 0.1, 0)
    names = {split: splits[split].names for split in ("train", "val", "test")}
    photo = [n.split("@")[0] for n in names["val"]]
    assert set(photo) <= set(EMBEDDED_SCENES) and {n.split("@")[0] for n in names["test"]} <= set(
        EMBEDDED_SCENES
    )
    assert photo[: len(EMBEDDED_SCENES)] == list(
        EMBEDDED_SCENES
    )  # the first panels show five different photos
    assert not set(names["train"]) & (set(names["val"]) | set(names["test"]))
    assert not set(names["val"]) & set(names["test"])
    assert any(n.startswith("hubble") for n in names["train"])  # non-scenes still train
    assert embedded_splits(64, 0.1, 0.1, 0).__getitem__("val").names == names["val"]


def test_folder_ratio_split_is_deterministic_and_disjoint(image_folder):
    a = folder_splits(image_folder, 0.25, 0.25, seed=0)
    b = folder_splits(image_folder, 0.25, 0.25, seed=0)
    names = {k: [str(p) for p in v.paths] for k, v in a.items()}
    assert names == {k: [str(p) for p in v.paths] for k, v in b.items()}
    assert [len(names[k]) for k in ("train", "val", "test")] == [6, 3, 3]
    assert not set(names["train"]) & set(names["val"]) and not set(names["val"]) & set(names["test"])
    assert split_indices(12, 0.25, 0.25, 0) != split_indices(12, 0.25, 0.25, 1)


def test_max_side_shrinks_folder_images_and_cache_decodes_each_once(tmp_path, monkeypatch):
    from inpaint_lightning.data import sources

    Image.fromarray(np.full((300, 400, 3), 120, np.uint8)).save(tmp_path / "a.png")
    Image.fromarray(np.full((90, 60, 3), 30, np.uint8)).save(tmp_path / "b.png")
    images = sources.ImageList(paths=sorted(tmp_path.glob("*.png")), max_side=200, cache=True)
    calls = []
    real_read = sources.read_image
    monkeypatch.setattr(sources, "read_image", lambda p: calls.append(p) or real_read(p))
    assert images.load(0).shape == (150, 200, 3) and images.load(1).shape == (90, 60, 3)  # never enlarged
    images.load(0)
    assert len(calls) == 2  # the second load of a.png came from memory
    assert images.subset([0]).max_side == 200 and images.subset([0]).cache
    dm = ImageDataModule(root=str(tmp_path), image_size=32, val_ratio=0.5, test_ratio=0, max_side=100)
    assert all(split.max_side == 100 for split in dm.splits.values())


def test_train_val_subfolders_are_used(tmp_path):
    for split, count in (("train", 5), ("val", 2)):
        (tmp_path / split).mkdir()
        for i in range(count):
            Image.new("RGB", (20, 20), (i * 10, 0, 0)).save(tmp_path / split / f"{i}.png")
    splits = folder_splits(tmp_path, 0.1, 0.1, 0)
    assert len(splits["train"]) == 5 and len(splits["val"]) == 2
    assert splits["test"] is splits["val"]


def test_missing_and_empty_root_fail_at_construction_naming_the_path(tmp_path):
    with pytest.raises(DataNotFoundError, match=str(tmp_path / "missing")):
        ImageDataModule(root=str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataNotFoundError, match="no readable images"):
        ImageDataModule(root=str(tmp_path / "empty"))


def test_corrupt_files_are_skipped_with_a_warning_and_never_crash(image_folder, caplog):
    (image_folder / "zero.png").write_bytes(b"")
    truncated = image_folder / "part0" / "truncated.jpg"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)).save(truncated)
    truncated.write_bytes(truncated.read_bytes()[:700])  # header fine, pixels missing
    with caplog.at_level("WARNING"):
        dm = ImageDataModule(
            root=str(image_folder),
            image_size=32,
            batch_size=2,
            num_workers=0,
            val_ratio=0.01,
            test_ratio=0.01,
        )
        dm.setup("fit")
        seen = [b["target"].shape[0] for b in dm.train_dataloader()]
        seen += [b["target"].shape[0] for b in dm.val_dataloader()]
    messages = [r.getMessage() for r in caplog.records]
    assert any("zero.png" in m and "1 unreadable" in m for m in messages)  # header check at setup
    assert sum("truncated.jpg" in m for m in messages) == 1, messages  # decode failure at load: one warning
    assert sum(seen) >= 10


def test_file_masks_follow_the_image_geometry(tmp_path):
    """A mask file identical to the image must still match it after random crop, flip and affine."""
    img = np.zeros((80, 80), np.uint8)
    img[10:50, 20:70] = 255
    img[55:75, 5:30] = 255
    (tmp_path / "img").mkdir()
    (tmp_path / "masks").mkdir()
    for i in range(4):
        Image.fromarray(img).convert("RGB").save(tmp_path / "img" / f"{i}.png")
    Image.fromarray(img).save(tmp_path / "masks" / "m.png")
    dm = ImageDataModule(
        root=str(tmp_path / "img"),
        image_size=32,
        batch_size=4,
        num_workers=0,
        val_ratio=0.25,
        test_ratio=0.0,
        crop_scale=(0.3, 0.6),
        corruption=HoleCorruption(FolderMasks(str(tmp_path / "masks"))),
    )
    dm.setup("fit")
    agree, flipped = [], []
    for epoch in range(3):
        for i in range(len(dm.datasets["train"])):
            s = dm.datasets["train"][epoch * 100 + i]
            white = (s["target"].mean(0) > 0.5).float()
            agree.append((white == s["mask"][0]).float().mean().item())
            flipped.append((white == s["mask"][0].flip(-1)).float().mean().item())
    assert np.mean(agree) > 0.94, agree  # only edge pixels differ (area vs nearest resampling)
    assert np.mean(flipped) < 0.85  # a mask that had not followed the image would score like this


def test_free_form_corruption_is_configurable_from_the_datamodule():
    dm = _dm(corruption=HoleCorruption(FreeFormMasks(hole_range=(0.4, 0.6), strokes=(3, 6))))
    ratios = torch.cat([b["mask"] for b in dm.val_dataloader()]).flatten(1).mean(1)
    assert (ratios > 0.3).float().mean() > 0.9
