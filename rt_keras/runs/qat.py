"""The qat step: quantisation-aware fine-tuning of a finished run into ``RUN_DIR/qat``
(8-bit weights) or ``RUN_DIR/qat4`` (4-bit weights): checkpoints, resumable backup,
history, ``model.weights.h5``, ``metrics.json``; and loading its model back."""

from __future__ import annotations

import json
import logging

from converters.files import atomic_write_json
from rt_keras.core import run_config as run_config_lib
from rt_keras.model.quantize import QAT_SCHEME, WEIGHT_BITS, quantize_model, relu_fused_dense_layers
from rt_keras.model.saving import save_model
from rt_keras.runs.run_dir import RunDir, trained
from rt_keras.training.qat import quantization_aware_fit

log = logging.getLogger("rt_keras")


def qat_command(run_dir, weight_bits: int = 8) -> str:
    """The command that makes the QAT run of ``weight_bits``."""
    return f"rt-keras qat {run_dir}" + (" --weight-bits 4" if weight_bits == 4 else "")


def load_qat_model(run_dir, weight_bits: int = 8):
    """The quantisation-aware model fine-tuned by ``finetune`` (``RUN_DIR/qat``, or
    ``RUN_DIR/qat4`` for ``weight_bits=4``).

    tfmot's wrappers do not survive a ``.keras`` round trip in tf-keras 2.21, so the QAT
    run stores weights only and the model is rebuilt by wrapping the float model again."""
    run = RunDir(run_dir)
    step = run.qat_step(weight_bits)
    if not step.weights.is_file():
        raise FileNotFoundError(f"{step.weights} not found; run {weight_bits}-bit quantisation-aware training first: "
                                f"{qat_command(run.path, weight_bits)}")
    model = quantize_model(run.load_model(), weight_bits)
    stale = _stale_for(model, step)
    if stale:
        raise ValueError(f"{step.weights}: made before QAT quantised {stale[0]}'s kernel (a Dense feeding a ReLU), "
                         f"so it does not fit today's QAT model; run it again: {qat_command(run.path, weight_bits)} "
                         "--force")
    model.load_weights(str(step.weights))
    return model


def _stale_for(qat_model, step) -> list[str]:
    """The layers a finished QAT run of an older QAT_SCHEME saved no quantiser state for (empty
    when its weights file fits ``qat_model``)."""
    metrics = json.loads(step.metrics.read_text()) if step.metrics.is_file() else {}
    return relu_fused_dense_layers(qat_model) if metrics.get("qat_scheme", 1) < QAT_SCHEME else []


def finetune(run_dir, force: bool = False, progress: bool = True, extra_callbacks=(),
             weight_bits: int | None = None) -> dict:
    """Quantisation-aware fine-tuning of the trained float run ``run_dir`` (settings: the
    run config's ``qat`` section; ``weight_bits`` overrides its ``weight_bits``) into
    ``run_dir/qat`` (8 bits) or ``run_dir/qat4`` (4 bits). A finished QAT run is a no-op
    unless ``force``; an interrupted one resumes."""
    run = trained(run_dir)
    config = run.load_config()
    bits = config.qat.weight_bits if weight_bits is None else weight_bits
    if bits not in WEIGHT_BITS:
        raise run_config_lib.ConfigError(f"--weight-bits {bits!r}; allowed: {', '.join(map(str, WEIGHT_BITS))}")
    config.qat.weight_bits = bits
    step = run.qat_step(bits)
    finished = None if force else step.finished_metrics(f"{bits}-bit quantisation-aware training")
    if finished and finished.get("qat_scheme", 1) < QAT_SCHEME and _stale_for(quantize_model(run.load_model(), bits),
                                                                                  step):
        log.info("%s: made before QAT quantised a Dense feeding a ReLU; running it again", step.path)
        finished, force = None, True
    if finished:
        return finished
    settings = config.qat
    # forced: a stale backup would skip calibration and restore the old state
    step.start_step(config, force=force, seed=config.train.seed + 1)
    # Keras leaves the backup directory, empty, when a run finishes
    resuming = step.backup.is_dir() and any(step.backup.iterdir())
    model, history, seconds, validation_wer = quantization_aware_fit(run.load_model(), config, step, resuming,
                                                                     progress, extra_callbacks)
    float_metrics = json.loads(run.metrics.read_text()) if run.metrics.is_file() else {}
    metrics = {
        "finished": True, "name": f"{config.name}-qat" + ("4" if bits == 4 else ""), "source": str(run.path),
        "weight_bits": bits, "qat_scheme": QAT_SCHEME,
        "epochs": settings.epochs, "steps_per_epoch": settings.steps_per_epoch, "batch_size": settings.batch_size,
        "learning_rate": settings.learning_rate, "train_seconds_this_session": seconds,
        "epochs_this_session": len(history.history.get("loss", [])),
        "validation_wer": validation_wer, "float_validation_wer": float_metrics.get("validation_wer"),
    }
    save_model(model, step.weights, weights_only=True)
    atomic_write_json(step.metrics, metrics)
    return metrics


def update_qat_settings(run_dir, overrides: list[str]) -> None:
    """Change ``qat.FIELD=VALUE`` settings in the trained run's config.yaml, validated
    before anything is written."""
    bad = [item for item in overrides if not item.startswith("qat.")]
    if bad:
        raise run_config_lib.ConfigError(f"--set {bad[0]!r}: only qat.FIELD=VALUE can be changed after training")
    run = RunDir(run_dir)
    if not run.config.is_file():
        raise FileNotFoundError(f"{run.config} not found; train first: rt-keras train --config ... --out {run.path}")
    values = run_config_lib.apply_overrides(run.load_config().to_dict(), overrides)
    run.save_config(run_config_lib.from_dict(values, str(run.config)))
