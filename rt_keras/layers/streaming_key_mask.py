"""Which keys a streaming step's attention may use: the cached frames that exist yet, and
the whole current chunk."""

from rt_keras.backend import keras, tf


@keras.utils.register_keras_serializable(package="rt_keras")
class StreamingKeyMask(keras.layers.Layer):
    """From ``offset`` ([1] float32: encoder frames emitted before this chunk) to a
    [1, context_frames + chunk_frames] mask (1 = keep) over the keys
    ``concat(cache, chunk)``: cache slot j holds frame ``offset - context_frames + j``,
    which exists once that is >= 0."""

    def __init__(self, context_frames, chunk_frames, **kwargs):
        super().__init__(**kwargs)
        self.context_frames = int(context_frames)
        self.chunk_frames = int(chunk_frames)

    def call(self, offset):
        slots = tf.range(self.context_frames, dtype=tf.float32)[tf.newaxis]
        cached = tf.cast(slots >= self.context_frames - tf.reshape(offset, [-1, 1]), tf.float32)
        return tf.concat([cached, tf.ones([tf.shape(offset)[0], self.chunk_frames])], axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.context_frames + self.chunk_frames)

    def get_config(self):
        config = super().get_config()
        config.update(context_frames=self.context_frames, chunk_frames=self.chunk_frames)
        return config
