"""Which keys a streaming step's attention may use: the frames among them that exist yet."""

from rt_keras.backend import keras, tf


@keras.utils.register_keras_serializable(package="rt_keras")
class StreamingKeyMask(keras.layers.Layer):
    """From ``offset`` ([1] float32: encoder frames emitted before this chunk) to a
    [1, context_frames + chunk_frames] mask (1 = keep) over the keys
    ``concat(cache, chunk)``: key j is frame ``offset - shift - context_frames + j``,
    which exists once that is >= 0. ``shift`` is the look-ahead: a step with R frames of
    it attends from the chunk that starts R frames before the new audio's first frame,
    and before the first call its R buffered frames do not exist."""

    def __init__(self, context_frames, chunk_frames, shift=0, **kwargs):
        super().__init__(**kwargs)
        self.context_frames = int(context_frames)
        self.chunk_frames = int(chunk_frames)
        self.shift = int(shift)

    def call(self, offset):
        keys = tf.range(self.context_frames + self.chunk_frames, dtype=tf.float32)[tf.newaxis]
        return tf.cast(keys >= float(self.shift + self.context_frames) - tf.reshape(offset, [-1, 1]), tf.float32)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.context_frames + self.chunk_frames)

    def get_config(self):
        config = super().get_config()
        config.update(context_frames=self.context_frames, chunk_frames=self.chunk_frames, shift=self.shift)
        return config
