"""A layer's own bias after a shared matrix (ALBERT-style sharing keeps biases per layer)."""

from rt_keras.backend import keras


@keras.utils.register_keras_serializable(package="rt_keras")
class BiasAdd(keras.layers.Layer):
    """``y = x + b`` with a trainable bias over the last axis."""

    def __init__(self, bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def build(self, input_shape):
        self.bias = self.add_weight(name="bias", shape=(int(input_shape[-1]),),
                                    initializer=self.bias_initializer)
        super().build(input_shape)

    def call(self, inputs):
        return inputs + self.bias

    def get_config(self):
        config = super().get_config()
        config.update(bias_initializer=keras.initializers.serialize(self.bias_initializer))
        return config
