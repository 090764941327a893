"""Helpers shared by the tests."""

from rt_keras.backend import keras


class InterruptAfterEpoch(keras.callbacks.Callback):
    """Raise KeyboardInterrupt after epoch ``epoch`` finished (after BackupAndRestore
    saved), like a process killed between epochs."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt("simulated kill")
