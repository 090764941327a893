"""Helpers shared by the tests."""

import pytest

from rt_keras.backend import keras
from rt_keras.data.fsdd import default_fsdd_dir

FSDD = default_fsdd_dir()
# Tests that need the real recordings (CI has them; see README "Getting FSDD").
requires_fsdd = pytest.mark.skipif(FSDD is None, reason="FSDD not found (set RT_KERAS_FSDD)")


class InterruptAfterEpoch(keras.callbacks.Callback):
    """Raise KeyboardInterrupt after epoch ``epoch`` finished (after BackupAndRestore
    saved), like a process killed between epochs."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt("simulated kill")
