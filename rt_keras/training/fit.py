"""The ``model.fit`` every training step shares: seeding, validation WER after each
epoch, the best-WER checkpoint, a resumable backup, TensorBoard and history.csv. Where
those files go is the caller's (``rt_keras.runs.run_dir.RunDir`` names them).
Library code logs (logger ``rt_keras``); the CLI prints."""

from __future__ import annotations

import logging
import time

from rt_keras.backend import keras, tf
from rt_keras.data.batches import batches
from rt_keras.training.evaluation import evaluate_split, graph_forward

log = logging.getLogger("rt_keras")


def seed_everything(seed: int) -> None:
    """Same seed, same machine, same weights: Python, NumPy and TensorFlow generators are
    seeded and TensorFlow's kernels run deterministically."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


class ValidationWER(keras.callbacks.Callback):
    """Adds ``val_wer`` to the epoch logs (before ModelCheckpoint reads it)."""

    def __init__(self, split, frontend):
        super().__init__()
        self.split, self.frontend = split, frontend

    def on_train_begin(self, logs=None):
        self.forward = graph_forward(self.model)  # traced once per training, not once per epoch

    def on_epoch_end(self, epoch, logs=None):
        wer = evaluate_split(self.forward, self.split, self.frontend)["wer"]
        if logs is not None:
            logs["val_wer"] = wer
        log.info("epoch %d: val_wer %.4f", epoch + 1, wer)


def averaged_weights_callbacks(model):
    """With the optimiser's moving average of the weights on (``use_ema``), two callbacks
    that bracket the epoch-end validation and best checkpoint: the first swaps the averaged
    weights in, the second puts the raw ones back before the resumable backup is written,
    so validation and the shipped checkpoint see the average while training, and a resumed
    run, continue from the raw weights. Keras's own ``val_loss`` is computed before the
    epoch-end callbacks, on the raw weights; ``val_wer`` is the average's. The average starts
    from the initial weights (tf-keras has no bias correction): with 0.999 over 3,750 steps
    they still weigh 2%. Without it, two empty lists."""
    optimizer = model.optimizer
    if not getattr(optimizer, "use_ema", False):
        return [], []
    raw = []

    def swap_in(epoch, logs=None):
        raw[:] = [variable.numpy() for variable in model.trainable_variables]
        optimizer.finalize_variable_values(model.trainable_variables)  # assigns the averages

    def swap_out(epoch, logs=None):
        for variable, value in zip(model.trainable_variables, raw):
            variable.assign(value)

    return ([keras.callbacks.LambdaCallback(on_epoch_end=swap_in)],
            [keras.callbacks.LambdaCallback(on_epoch_end=swap_out)])


def fit_into(step, model, train_data, validation_split, frontend, epochs, steps_per_epoch, batch_size,
             progress=True, extra_callbacks=()):
    """``model.fit`` with the callbacks every step gets; ``step`` names their files
    (``best_weights``, ``backup``, ``tensorboard``, ``history``: a RunDir). Returns
    (history, seconds); with the optimiser's weight average on, ``model`` ends holding the
    average (``fit`` finalises it)."""
    step.best_weights.parent.mkdir(parents=True, exist_ok=True)
    use_average, use_raw = averaged_weights_callbacks(model)
    callbacks = [
        *use_average,
        ValidationWER(validation_split, frontend),
        keras.callbacks.ModelCheckpoint(str(step.best_weights), monitor="val_wer", mode="min",
                                        save_best_only=True, save_weights_only=True),
        *use_raw,
        keras.callbacks.BackupAndRestore(str(step.backup)),
        keras.callbacks.TensorBoard(str(step.tensorboard), update_freq="epoch"),
        keras.callbacks.CSVLogger(str(step.history), append=True),
        keras.callbacks.TerminateOnNaN(),
        *extra_callbacks,
    ]
    validation_data = batches(validation_split, batch_size, frontend, shuffle=False)
    started = time.time()
    history = model.fit(train_data, epochs=epochs, steps_per_epoch=steps_per_epoch,
                        validation_data=validation_data, callbacks=callbacks, verbose=1 if progress else 2)
    return history, time.time() - started
