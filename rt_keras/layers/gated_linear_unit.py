"""Gated linear unit of the Conformer convolution module."""

from rt_keras.backend import keras, tf


@keras.utils.register_keras_serializable(package="rt_keras")
class GatedLinearUnit(keras.layers.Layer):
    """Splits the last axis in halves ``a, b`` and returns ``a * sigmoid(b)``."""

    def call(self, inputs):
        value, gate = tf.split(inputs, 2, axis=-1)
        return value * tf.sigmoid(gate)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (input_shape[-1] // 2,)
