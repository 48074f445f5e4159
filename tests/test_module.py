"""The LightningModule's training mechanics: step counting, precision, clipping, metrics start-up checks."""

import urllib.error
import warnings
from pathlib import Path

import lightning as L
import pytest
import torch
import torchvision
from lightning.pytorch.plugins.precision import MixedPrecision

from inpaint_lightning.composite import composite
from inpaint_lightning.data import ImageDataModule
from inpaint_lightning.ema import update_ema
from inpaint_lightning.errors import MissingWeightsError
from inpaint_lightning.evaluation import baseline
from inpaint_lightning.losses import InpaintingLoss
from inpaint_lightning.models import GatedUNet, PatchDiscriminator
from inpaint_lightning.module import GANModule
from inpaint_lightning.pretrained import make_lpips


def tiny_model(**kw) -> GANModule:
    return GANModule(
        GatedUNet(base_channels=8, depth=2, dilations=(1,), max_channels=16),
        PatchDiscriminator(base_channels=8, n_layers=2),
        **{"lpips": "off", **kw},
    )


def tiny_data() -> ImageDataModule:
    return ImageDataModule(image_size=32, batch_size=4, num_workers=0, embedded_tile=64)


def trainer(**kw) -> L.Trainer:
    return L.Trainer(
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        limit_val_batches=1,
        **kw,
    )


class GradNorms(L.Callback):
    """Records each network's gradient norm after the batch: what its optimizer stepped with (after clipping,
    after unscaling; gradients are cleared only before the next backward)."""

    def __init__(self) -> None:
        self.norms: list[float] = []
        self.scales: list[float] = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        for net in (pl_module.generator, pl_module.discriminator):
            grads = [p.grad.float() for p in net.parameters() if p.grad is not None]
            self.norms.append(
                torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads])).item()
            )
        scaler = getattr(trainer.precision_plugin, "scaler", None)
        self.scales.append(scaler.get_scale() if scaler is not None else 1.0)


def test_each_batch_steps_both_optimizers_once_and_counts_one_step():
    model, t = tiny_model(), trainer(max_steps=5)
    t.fit(model, tiny_data())
    assert t.global_step == 5
    for opt in t.optimizers:  # both G and D took 5 Adam steps
        assert next(iter(opt.state.values()))["step"].item() == 5


def test_pixel_warm_up_trains_the_generator_alone_then_both():
    """``pixel_warmup`` (Real-ESRNet's stage): no D update and no adversarial term for the first steps."""
    from inpaint_lightning.losses import InpaintingLoss

    model = tiny_model(loss=InpaintingLoss(pixel_warmup=3))
    t = trainer(max_steps=5)
    t.fit(model, tiny_data())
    g_opt, d_opt = t.optimizers
    assert t.global_step == 5
    assert next(iter(g_opt.state.values()))["step"].item() == 5
    assert next(iter(d_opt.state.values()))["step"].item() == 2  # steps 3 and 4 only
    assert not model.loss.adversarial_at(2) and model.loss.adversarial_at(3)


def test_phases_are_data_a_discriminator_only_warm_up_still_counts_every_batch():
    """An objective's phase list alone decides the updates: here the discriminator trains alone for 3 batches
    (as a fine-tune's warm-up), R1 joins it every 2 batches; every batch is one global step either way."""
    from inpaint_lightning.losses import Phase

    class DiscriminatorFirst(InpaintingLoss):
        def phases(self):
            return (
                Phase("Dmain", "discriminator"),
                Phase("Dreg", "discriminator", interval=2),
                Phase("Gmain", "generator", start=3),
            )

    loss = DiscriminatorFirst(r1_gamma=1.0)
    model = tiny_model(loss=loss)
    g_before = [p.detach().clone() for p in model.generator.parameters()]
    t = trainer(max_steps=2)
    t.fit(model, tiny_data())
    assert t.global_step == 2  # D-only batches count
    assert all(torch.equal(a, b) for a, b in zip(g_before, model.generator.parameters(), strict=True))
    assert [p.name for p in loss.due(2)] == ["Dmain", "Dreg"] and [p.name for p in loss.due(3)] == [
        "Dmain",
        "Gmain",
    ]
    t = trainer(max_steps=5)
    t.fit(model, tiny_data())
    g_opt, d_opt = t.optimizers
    assert next(iter(g_opt.state.values()))["step"].item() == 2  # batches 3 and 4
    assert next(iter(d_opt.state.values()))["step"].item() == 5


def test_a_generator_alone_trains_with_one_optimizer():
    """No discriminator (the damage detector): one optimizer, one step per batch, no adversarial terms."""
    from inpaint_lightning.losses import InpaintingLoss

    model = GANModule(
        GatedUNet(base_channels=8, depth=2, dilations=(1,), max_channels=16), None,
        loss=InpaintingLoss(adversarial_weight=0.1), lpips="off",
    )  # fmt: skip
    before = [p.detach().clone() for p in model.generator.parameters()]
    t = trainer(max_steps=3)
    t.fit(model, tiny_data())
    assert len(t.optimizers) == 1 and t.global_step == 3
    assert next(iter(t.optimizers[0].state.values()))["step"].item() == 3
    assert any(not torch.equal(a, b) for a, b in zip(before, model.generator.parameters(), strict=True))


def test_channels_last_trains_the_same_weights_in_nhwc_layout():
    """``channels_last`` changes memory order only: the generator's inputs (training and validation) and 4-D
    weights are NHWC, and three steps of training end at the weights contiguous training reaches (up to float
    summation order)."""
    runs = {}
    for flag in (False, True):
        L.seed_everything(0)
        model, layouts = tiny_model(channels_last=flag), []
        for net in (model.generator, model.generator_ema):  # each network's first convolution
            first = next(m for m in net.modules() if isinstance(m, torch.nn.Conv2d))
            first.register_forward_pre_hook(
                lambda _, args, seen=layouts: seen.append(
                    args[0].is_contiguous(memory_format=torch.channels_last)
                )
            )
        initial = [p.detach().clone() for p in model.generator.parameters()]
        trainer(max_steps=3, val_check_interval=3).fit(model, tiny_data())
        runs[flag] = model
        # it did train: the closeness checked below is not that of two untouched initialisations
        assert any(not torch.equal(a, b) for a, b in zip(initial, model.generator.parameters(), strict=True))
        assert len(layouts) == 4 and set(layouts) == {flag}  # 3 training steps, 1 validation batch
        convs = [p for p in model.parameters() if p.dim() == 4]
        assert all(p.is_contiguous(memory_format=torch.channels_last) == flag for p in convs)
    for a, b in zip(runs[False].state_dict().values(), runs[True].state_dict().values(), strict=True):
        if a.is_floating_point():
            torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-3)


def test_gradient_clipping_under_16_mixed_clips_unscaled_gradients():
    """fp16 autocast on CPU with a real GradScaler: norms seen at step time are the clipped, unscaled ones."""
    L.seed_everything(0)
    record = GradNorms()
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**12)
    t = trainer(max_steps=3, callbacks=[record], plugins=[MixedPrecision("16-mixed", "cpu", scaler=scaler)])
    t.fit(tiny_model(gradient_clip_val=0.01), tiny_data())
    assert len(record.norms) == 6  # D and G, three batches
    assert all(s >= 2.0**10 for s in record.scales)  # loss scaling really was active
    # exactly at the clip value: clipping scaled gradients would leave ~0.01 / 4096 after unscaling
    assert all(abs(n - 0.01) < 1e-4 for n in record.norms), record.norms


def test_without_clipping_gradients_are_larger_than_the_clip_value():
    L.seed_everything(0)
    record = GradNorms()
    trainer(max_steps=2, callbacks=[record]).fit(tiny_model(), tiny_data())
    assert max(record.norms) > 0.01  # so the clipping test above is not vacuous


def test_lr_schedulers_step_per_batch_when_asked():
    model = tiny_model(
        g_scheduler=lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5),
        d_scheduler=lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5),
        scheduler_interval="step",
    )
    t = trainer(max_steps=3)
    t.fit(model, tiny_data())
    for opt in t.optimizers:
        assert opt.param_groups[0]["lr"] == pytest.approx(2e-4 * 0.5**3)


@pytest.mark.parametrize("interval", ["step", "epoch"])
def test_discriminator_schedule_starts_with_its_training_after_a_pixel_warm_up(interval):
    """During a pixel warm-up D is never stepped, so its scheduler must not be either (G's runs from step 0)."""

    def halve(opt):
        return torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)

    model = tiny_model(
        loss=InpaintingLoss(pixel_warmup=2), g_scheduler=halve, d_scheduler=halve, scheduler_interval=interval
    )
    data = tiny_data()
    # "epoch": one batch per epoch, so both intervals step once per batch
    t = trainer(max_steps=3, limit_train_batches=1 if interval == "epoch" else None)
    t.fit(model, data)
    g_opt, d_opt = t.optimizers
    assert g_opt.param_groups[0]["lr"] == pytest.approx(2e-4 * 0.5**3)
    assert d_opt.param_groups[0]["lr"] == pytest.approx(2e-4 * 0.5**1)  # only step 2 trained D


def test_composite_keeps_known_pixels_exactly():
    image, pred = torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8)
    mask = (torch.rand(2, 1, 8, 8) > 0.5).float()
    pred[0, 0, 0, 0], pred[0, 1, 0, 0] = 1.7, -0.3  # out-of-range predictions are clamped
    mask[0, 0, 0, 0] = 1.0
    out = composite(pred, image, mask)
    known = (mask == 0).expand_as(image)
    assert torch.equal(out[known], image[known])
    assert torch.equal(out[~known], pred.clamp(0, 1)[~known])
    assert out[0, 0, 0, 0] == 1.0 and out[0, 1, 0, 0] == 0.0


class KeepOutputs(L.Callback):
    def __init__(self) -> None:
        self.pairs: list[tuple[dict, dict]] = []

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        self.pairs.append((outputs, batch))


def test_validation_metrics_are_computed_on_the_composited_output():
    """The output validation scores keeps every known pixel of the clean image exactly."""
    keep = KeepOutputs()
    model, t = tiny_model(), trainer(max_steps=1, callbacks=[keep])
    t.fit(model, tiny_data())
    metrics = t.validate(model, tiny_data(), verbose=False)[0]
    assert {"val/psnr", "val/ssim", "val/l1_hole"} <= set(metrics)
    assert 0 < metrics["val/ssim"] <= 1
    outputs, batch = keep.pairs[-1]
    out = outputs["output"]
    known = (batch["mask"] == 0).expand_as(out)
    assert torch.equal(out[known], batch["target"][known])
    assert not torch.equal(out[~known], batch["target"][~known])  # the hole is the model's


def test_validation_scores_the_telea_baseline_on_the_same_samples():
    """val/telea/* are OpenCV Telea's fills of the very samples the model is scored on (known pixels exact)."""
    keep = KeepOutputs()
    model, t = tiny_model(), trainer(max_steps=1, callbacks=[keep])
    t.fit(model, tiny_data())
    metrics = t.validate(model, tiny_data(), verbose=False)[0]
    assert {"val/telea/psnr", "val/telea/ssim"} <= set(metrics)
    assert metrics["val/telea/psnr"] != metrics["val/psnr"]
    outputs, batch = keep.pairs[-1]
    filled, image, mask = outputs["baseline"], batch["target"], batch["mask"]
    known = (mask == 0).expand_as(filled)
    assert torch.equal(filled[known], image[known])
    pixels = (batch["input"][0].permute(1, 2, 0) * 255).round().byte().numpy()
    expected = torch.from_numpy(baseline("telea")(pixels, mask[0, 0].numpy())).permute(2, 0, 1).float() / 255
    assert torch.allclose(filled[0][~known[0]], expected[~known[0]])
    from inpaint_lightning.evaluation.metrics import psnr

    assert metrics["val/telea/psnr"] == pytest.approx(psnr(filled, image).mean().item(), abs=1e-4)
    off = tiny_model(val_baseline="off")
    off_metrics = trainer(max_steps=1).validate(off, tiny_data(), verbose=False)[0]
    assert "val/psnr" in off_metrics and not any(k.startswith("val/telea") for k in off_metrics)


def _offline(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))

    def refuse(*args, **kwargs):
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", refuse)
    monkeypatch.setattr(torchvision.models._api, "load_state_dict_from_url", refuse)


def test_missing_lpips_weights_fail_at_startup_naming_file_and_torch_home(monkeypatch, tmp_path):
    _offline(monkeypatch, tmp_path)
    with pytest.raises(MissingWeightsError) as err:
        tiny_model(lpips="alex")
    message = str(err.value)
    assert "alexnet-owt-7be5be79.pth" in message and str(tmp_path / "torch_home") in message
    assert "TORCH_HOME" in message


def test_missing_lpips_weights_can_disable_lpips_with_a_warning(monkeypatch, tmp_path):
    _offline(monkeypatch, tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert make_lpips("alex", on_missing="disable") is None
    assert any("LPIPS is disabled" in str(w.message) for w in caught)


def test_lpips_is_built_when_weights_are_cached():
    lpips = make_lpips("alex")
    assert lpips is not None
    same = torch.rand(2, 3, 32, 32)
    assert lpips(same, same).item() == pytest.approx(0.0, abs=1e-6)
    assert lpips(same, torch.rand(2, 3, 32, 32)).item() > 0.05


def test_update_ema_averages_parameters_and_copies_buffers():
    model, ema = torch.nn.BatchNorm2d(2), torch.nn.BatchNorm2d(2)
    with torch.no_grad():
        model.weight.fill_(1.0)
        ema.weight.fill_(0.0)
        model.running_mean.fill_(3.0)
    update_ema(ema, model, decay=0.9)
    torch.testing.assert_close(ema.weight, torch.full((2,), 0.1))
    torch.testing.assert_close(ema.running_mean, torch.full((2,), 3.0))
    update_ema(ema, model, decay=0.0)
    torch.testing.assert_close(ema.weight, model.weight)


def test_ema_generator_tracks_training_is_used_for_evaluation_and_is_checkpointed(tmp_path):
    torch.manual_seed(0)
    model = tiny_model(ema_decay=0.9, ema_start=2)
    start = [p.detach().clone() for p in model.generator_ema.parameters()]
    snapshots = []

    class Snap(L.Callback):
        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            snapshots.append(
                (
                    [p.detach().clone() for p in pl_module.generator.parameters()],
                    [p.detach().clone() for p in pl_module.generator_ema.parameters()],
                )
            )

    t = trainer(max_steps=4, callbacks=[Snap()])
    t.fit(model, datamodule=tiny_data())
    # Before ema_start the EMA copies the generator; afterwards it averages with a warm-up decay.
    for g, e in zip(*snapshots[1], strict=True):
        torch.testing.assert_close(e, g)
    # Step 3: t = 1, decay min(0.9, 2 / 11); step 4: t = 2, min(0.9, 3 / 12) = 0.25.
    for g, e, prev in zip(snapshots[3][0], snapshots[3][1], snapshots[2][1], strict=True):
        torch.testing.assert_close(e, 0.25 * prev + 0.75 * g)
    assert any(not torch.equal(a, b) for a, b in zip(start, model.generator_ema.parameters(), strict=True))
    assert not any(p.requires_grad for p in model.generator_ema.parameters())
    # Evaluation and inference go through the EMA generator.
    x = torch.rand(1, 3, 32, 32)
    m = torch.zeros(1, 1, 32, 32)
    m[..., 8:24, 8:24] = 1
    with torch.no_grad():
        expected = composite(model.generator_ema(torch.cat([x, m], 1)), x, m)
        batch = {"input": x, "mask": m}
        torch.testing.assert_close(model.eval()(batch), expected)
        assert not torch.allclose(model(batch), composite(model.generator(torch.cat([x, m], 1)), x, m))
    path = tmp_path / "m.ckpt"
    t.save_checkpoint(path)
    keys = torch.load(path, weights_only=False)["state_dict"].keys()
    assert any(k.startswith("generator_ema.") for k in keys) and not any("vgg" in k for k in keys)


def test_no_ema_evaluates_the_generator_itself():
    model = tiny_model(ema_decay=None)
    assert model.generator_ema is None and model.inference_generator is model.generator


def _plateau(mode: str = "min"):
    # never "improves" (threshold 100 %), no patience: every call after the first halves the rate
    return lambda opt: torch.optim.lr_scheduler.ReduceLROnPlateau(
        opt, mode=mode, factor=0.5, patience=0, threshold=1.0
    )


@pytest.mark.parametrize(
    "task, lpips, expected",
    [("inpaint", True, ("val/lpips", "min")), ("inpaint", False, ("val/l1_hole", "min")),
     ("restore", False, ("val/l1", "min")), ("detect", True, ("val/f1", "max"))],
)  # fmt: skip
def test_each_task_declares_what_selects_checkpoints(task, lpips, expected):
    from inpaint_lightning.tasks import TASKS

    assert TASKS[task]().monitored(lpips) == expected


def test_a_plateau_scheduler_steps_on_the_tasks_metric_without_lpips():
    """LPIPS off: the scheduler watches val/l1_hole (before, it looked only for val/lpips or val/l1_hole by name)."""
    model = tiny_model(g_scheduler=_plateau(), scheduler_interval="step")
    assert model.monitored == ("val/l1_hole", "min")
    t = trainer(max_steps=4, val_check_interval=1, limit_train_batches=4)
    t.fit(model, tiny_data())
    assert "val/l1_hole" in t.callback_metrics
    assert t.optimizers[0].param_groups[0]["lr"] < 2e-4  # it stepped on the metric, and reduced


def test_a_plateau_scheduler_in_the_wrong_direction_is_refused():
    model = tiny_model(g_scheduler=_plateau("max"))
    with pytest.raises(ValueError, match="mode: min"):
        trainer(max_steps=1).fit(model, tiny_data())


def test_checkpoints_select_on_the_tasks_metric_by_default(tmp_path):
    from inpaint_lightning.callbacks import Checkpoint

    checkpoint = Checkpoint(dirpath=tmp_path, monitor="auto", save_top_k=1)
    t = L.Trainer(
        accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False,
        num_sanity_val_steps=0, limit_val_batches=1, max_steps=2, val_check_interval=1, limit_train_batches=2,
        callbacks=[checkpoint],
    )  # fmt: skip
    t.fit(tiny_model(), tiny_data())
    assert (checkpoint.monitor, checkpoint.mode) == ("val/l1_hole", "min")
    assert checkpoint.best_model_score is not None and Path(checkpoint.best_model_path).is_file()
