"""Multi-head scaled dot-product attention on already projected queries, keys, values."""

import math

from rt_keras.backend import keras, tf


@keras.utils.register_keras_serializable(package="rt_keras")
class ScaledDotProductAttention(keras.layers.Layer):
    """``softmax(q k^T / sqrt(d_head)) v`` per head; inputs and output are [B, T, d_model].

    The projections live outside this layer (they are residual projections whose shared
    matrices are separate layers), so it holds no weights. Optional fourth input:
    a [B, T] mask of valid frames (1 = keep); padded keys then get no attention weight.
    ``chunk_frames`` > 0: frame i sees only its own chunk and the ``left_context_frames``
    frames before that chunk, never a later chunk — the attention a streaming model can
    compute chunk by chunk. Chunks start at frame ``-chunk_offset`` (chunk c is frames
    ``[cC - offset, (c+1)C - offset)``), and ``lookahead_frames`` more frames after the
    chunk are visible: the encoder gives its first layer R frames of look-ahead and
    shifts every layer's chunks by R, so a chunk still needs no audio past its own end
    plus R frames.
    Ops used (RESHAPE, TRANSPOSE, BATCH_MATMUL, SOFTMAX) are TFLite builtins.
    """

    def __init__(self, num_heads, dropout=0.0, chunk_frames=0, left_context_frames=0, chunk_offset=0,
                 lookahead_frames=0, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = int(num_heads)
        self.dropout = float(dropout)
        self.chunk_frames = int(chunk_frames)
        self.left_context_frames = int(left_context_frames)
        self.chunk_offset = int(chunk_offset)
        self.lookahead_frames = int(lookahead_frames)
        self._dropout_layer = keras.layers.Dropout(self.dropout)

    def _split_heads(self, x, batch, head_dim):
        x = tf.reshape(x, [batch, -1, self.num_heads, head_dim])
        return tf.transpose(x, [0, 2, 1, 3])

    def call(self, inputs, training=None):
        query, key, value = inputs[:3]
        d_model = query.shape[-1]
        if d_model % self.num_heads:
            raise ValueError(
                f"{self.name}: num_heads={self.num_heads} must divide the feature size {d_model}")
        head_dim = d_model // self.num_heads
        # A static batch (1 in the exported model) makes every reshape a constant one: no
        # shape arithmetic per layer in the TFLite graph, whatever the length.
        batch = query.shape[0] if query.shape[0] is not None else tf.shape(query)[0]
        q = self._split_heads(query, batch, head_dim)
        k = self._split_heads(key, batch, head_dim)
        v = self._split_heads(value, batch, head_dim)
        scores = tf.matmul(q, k, transpose_b=True) * (1.0 / math.sqrt(head_dim))
        if len(inputs) > 3:
            mask = tf.cast(inputs[3], scores.dtype)[:, tf.newaxis, tf.newaxis, :]
            scores += (1.0 - mask) * -1e9
        if self.chunk_frames:
            scores += (1.0 - self.chunk_mask(tf.shape(scores)[-1], scores.dtype)) * -1e9
        weights = tf.nn.softmax(scores, axis=-1)
        weights = self._dropout_layer(weights, training=training)
        context = tf.transpose(tf.matmul(weights, v), [0, 2, 1, 3])
        return tf.reshape(context, [batch, -1, d_model])

    def chunk_mask(self, frames, dtype=tf.float32):
        """[T, T]: 1 where query frame i may attend to key frame j."""
        position = tf.range(frames)
        start = (position + self.chunk_offset) // self.chunk_frames * self.chunk_frames - self.chunk_offset
        start, key = start[:, tf.newaxis], position[tf.newaxis, :]
        allowed = (key < start + self.chunk_frames + self.lookahead_frames) & (
            key >= start - self.left_context_frames)
        return tf.cast(allowed, dtype)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = super().get_config()
        config.update(num_heads=self.num_heads, dropout=self.dropout, chunk_frames=self.chunk_frames,
                      left_context_frames=self.left_context_frames, chunk_offset=self.chunk_offset,
                      lookahead_frames=self.lookahead_frames)
        return config
