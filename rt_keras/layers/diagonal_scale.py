"""The per-layer diagonal term D_l of a residual projection."""

from rt_keras.backend import keras, tf


@keras.utils.register_keras_serializable(package="rt_keras")
class DiagonalScale(keras.layers.Layer):
    """``y = pad(x[..., :m] * d) + b`` with ``m = min(d_in, units)``.

    This is ``x D`` for a (d_in x units) diagonal matrix ``D``: for a rectangular matrix
    the diagonal scales the first ``m`` input features into the first ``m`` output
    features and the remaining outputs are zero. ``d`` starts at zero so that every layer
    of a group starts equal to the shared matrix.

    Args:
        units: output width (d_out of the matrix this diagonal belongs to).
        use_bias: also add the layer's own bias ``b`` (saves a separate op when the
            projection has no low-rank term to carry it).
    """

    def __init__(self, units, use_bias=False, diagonal_initializer="zeros",
                 bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.use_bias = bool(use_bias)
        self.diagonal_initializer = keras.initializers.get(diagonal_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def build(self, input_shape):
        self.input_dim = int(input_shape[-1])
        self.diagonal_size = min(self.input_dim, self.units)
        self.diagonal = self.add_weight(
            name="diagonal", shape=(self.diagonal_size,), initializer=self.diagonal_initializer)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.units,), initializer=self.bias_initializer)
        super().build(input_shape)

    def call(self, inputs):
        m = self.diagonal_size
        if m < self.input_dim:
            inputs = inputs[..., :m]
        outputs = inputs * self.diagonal
        if m < self.units:
            paddings = [[0, 0]] * (len(outputs.shape) - 1) + [[0, self.units - m]]
            outputs = tf.pad(outputs, paddings)
        if self.bias is not None:
            outputs = outputs + self.bias
        return outputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            use_bias=self.use_bias,
            diagonal_initializer=keras.initializers.serialize(self.diagonal_initializer),
            bias_initializer=keras.initializers.serialize(self.bias_initializer),
        )
        return config
