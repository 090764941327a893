"""Absolute sinusoidal positions, computed in the graph rather than stored as a table."""

import numpy as np

from rt_keras.backend import keras, tf


@keras.utils.register_keras_serializable(package="rt_keras")
class SinusoidalPositionalEncoding(keras.layers.Layer):
    """``y = x + PE[:T]`` with the sin/cos encoding of Vaswani et al.

    The table is computed from ``range(T)`` (RANGE, MUL, SIN, COS, CONCATENATION: TFLite
    builtins) so no [max_len, d] constant is stored in the model file, and any length
    works. Called on ``[x, offset]`` (offset: [1] float32, frames before ``x``), positions
    start at ``offset`` — for a streaming step that sees one chunk at a time.
    """

    def __init__(self, max_wavelength=10000.0, **kwargs):
        super().__init__(**kwargs)
        self.max_wavelength = float(max_wavelength)

    def build(self, input_shape):
        if isinstance(input_shape, (list, tuple)) and isinstance(input_shape[0], (list, tuple, tf.TensorShape)):
            input_shape = input_shape[0]
        dim = int(input_shape[-1])
        if dim % 2:
            raise ValueError(f"{self.name}: feature size must be even for sin/cos pairs, got {dim}")
        exponents = np.arange(0, dim, 2, dtype=np.float64) / dim
        self._inverse_frequencies = tf.constant(
            (1.0 / self.max_wavelength ** exponents).astype(np.float32))
        super().build(input_shape)

    def call(self, inputs):
        offset = None
        if isinstance(inputs, (list, tuple)):
            inputs, offset = inputs[0], tf.reshape(inputs[1], [])
        time = tf.shape(inputs)[1]
        positions = tf.cast(tf.range(time), tf.float32)
        if offset is not None:
            positions += offset
        positions = positions[:, tf.newaxis]
        angles = positions * self._inverse_frequencies[tf.newaxis, :]
        encoding = tf.concat([tf.sin(angles), tf.cos(angles)], axis=-1)
        return inputs + tf.cast(encoding, inputs.dtype)[tf.newaxis]

    def compute_output_shape(self, input_shape):
        return input_shape[0] if isinstance(input_shape, (list, tuple)) and len(input_shape) == 2 \
            and isinstance(input_shape[0], (list, tuple, tf.TensorShape)) else input_shape

    def get_config(self):
        config = super().get_config()
        config.update(max_wavelength=self.max_wavelength)
        return config
