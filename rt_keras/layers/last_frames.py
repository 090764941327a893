"""The last frames of a sequence: the state a streaming step hands to its next call."""

from rt_keras.backend import keras


@keras.utils.register_keras_serializable(package="rt_keras")
class LastFrames(keras.layers.Layer):
    """``x[:, -count:]`` along the time axis (axis 1) of a tensor of any rank; ``count``
    0 gives an empty time axis. One STRIDED_SLICE in TFLite."""

    def __init__(self, count, **kwargs):
        super().__init__(**kwargs)
        self.count = int(count)

    def call(self, inputs):
        return inputs[:, -self.count:] if self.count else inputs[:, :0]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.count, *input_shape[2:])

    def get_config(self):
        config = super().get_config()
        config.update(count=self.count)
        return config
