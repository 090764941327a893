"""Quantisation-aware fine-tuning with ``model.fit``: a trained float model is wrapped
for QAT (rt_keras.model.quantize; weights in ``qat.weight_bits`` bits), its activation ranges are calibrated on
training audio, then it is fine-tuned with the settings of the run config's ``qat``
section."""

from __future__ import annotations

from rt_keras.backend import keras
from rt_keras.data.batches import batches, training_split
from rt_keras.data.materialise import materialise
from rt_keras.data.storage import load_splits
from rt_keras.model.ctc import CTCLoss
from rt_keras.model.quantize import calibrate_ranges, quantize_model, sync_weight_ranges
from rt_keras.training.evaluation import evaluate_split
from rt_keras.training.fit import fit_into


def quantization_aware_fit(float_model, config, step, resuming: bool, progress: bool = True, extra_callbacks=()):
    """The QAT copy of ``float_model`` fine-tuned into ``step`` (a RunDir: checkpoints,
    backup, history); ``resuming``: the step's backup restores the ranges, so calibration
    is skipped. Returns (model holding the best-validation-WER weights, history, seconds,
    validation WER)."""
    settings = config.qat
    data_dir = materialise(config, progress=progress)
    train_split, validation_split = training_split(data_dir), load_splits(data_dir, config.train.select_on)
    model = quantize_model(float_model, settings.weight_bits)
    if not resuming:
        calibration = batches(train_split, settings.batch_size, config.frontend, shuffle=True, seed=config.train.seed)
        calibrate_ranges(model, (audio for audio, _ in calibration.take(settings.calibration_batches)))
    model.compile(optimizer=keras.optimizers.Adam(settings.learning_rate, clipnorm=config.train.clipnorm),
                  loss=CTCLoss())
    train_data = batches(train_split, settings.batch_size, config.frontend, shuffle=True,
                         seed=config.train.seed + 1).repeat()
    history, seconds = fit_into(step, model, train_data, validation_split, config.frontend, settings.epochs,
                                settings.steps_per_epoch, settings.batch_size, progress, extra_callbacks)
    if step.best_weights.is_file():  # ship the best-validation-WER weights
        model.load_weights(str(step.best_weights))
    if settings.weight_bits == 4:  # the exact 4-bit export reads each channel's step from its top level
        sync_weight_ranges(model)
    return model, history, seconds, evaluate_split(model, validation_split, config.frontend)["wer"]
