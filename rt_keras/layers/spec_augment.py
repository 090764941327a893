"""SpecAugment time and frequency masks (Park et al. 2019), active only in training."""

from rt_keras.backend import keras, tf


@keras.utils.register_keras_serializable(package="rt_keras")
class SpecAugment(keras.layers.Layer):
    """Zeroes ``time_masks`` random spans of up to ``time_mask_frames`` frames and
    ``frequency_masks`` spans of up to ``frequency_mask_bins`` bins, per example. At
    inference it is the identity (and disappears from the TFLite graph)."""

    def __init__(self, time_masks=2, time_mask_frames=12, frequency_masks=2, frequency_mask_bins=8,
                 seed=None, **kwargs):
        super().__init__(**kwargs)
        self.time_masks = int(time_masks)
        self.time_mask_frames = int(time_mask_frames)
        self.frequency_masks = int(frequency_masks)
        self.frequency_mask_bins = int(frequency_mask_bins)
        self.seed = seed

    def _masks(self, batch, length, count, width):
        """[batch, length] with 0 inside ``count`` random spans of width < ``width``."""
        positions = tf.range(length)[tf.newaxis, :]
        keep = tf.ones([batch, length], tf.bool)
        for _ in range(count):
            size = tf.random.uniform([batch, 1], 0, width + 1, dtype=tf.int32)
            room = tf.cast(tf.maximum(length - size, 1), tf.float32)
            start = tf.cast(tf.random.uniform([batch, 1]) * room, tf.int32)
            keep &= ~((positions >= start) & (positions < start + size))
        return tf.cast(keep, tf.float32)

    def call(self, features, training=None):
        if not training:
            return features
        batch, frames, bins = tf.shape(features)[0], tf.shape(features)[1], tf.shape(features)[2]
        time = self._masks(batch, frames, self.time_masks, self.time_mask_frames)
        frequency = self._masks(batch, bins, self.frequency_masks, self.frequency_mask_bins)
        return features * time[:, :, tf.newaxis] * frequency[:, tf.newaxis, :]

    def get_config(self):
        config = super().get_config()
        config.update(time_masks=self.time_masks, time_mask_frames=self.time_mask_frames,
                      frequency_masks=self.frequency_masks, frequency_mask_bins=self.frequency_mask_bins,
                      seed=self.seed)
        return config
