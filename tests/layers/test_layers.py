import numpy as np
import pytest

from rt_keras.layers import (
    BiasAdd,
    DiagonalScale,
    GatedLinearUnit,
    LastFrames,
    ScaledDotProductAttention,
    SinusoidalPositionalEncoding,
    StreamingKeyMask,
)
from tests.layer_harness import check_layer


@pytest.mark.parametrize("d_in,units,use_bias", [(8, 8, False), (8, 8, True), (8, 12, True), (12, 8, False)])
def test_diagonal_scale(tmp_path, d_in, units, use_bias):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 5, d_in)).astype(np.float32)
    layer, (y,) = check_layer(lambda: DiagonalScale(units, use_bias=use_bias), [x.shape], tmp_path,
                              expected_weights=2 if use_bias else 1, input_fn=lambda _: [x])
    weights = layer.get_weights()
    m = min(d_in, units)
    # Dense equivalent: x @ D with D a d_in x units matrix holding d on its diagonal.
    dense = np.zeros((d_in, units), np.float32)
    dense[np.arange(m), np.arange(m)] = weights[0]
    want = x @ dense + (weights[1] if use_bias else 0)
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-5)


def test_diagonal_scale_starts_at_zero():
    layer = DiagonalScale(4)
    assert np.all(layer(np.ones((1, 3, 6), np.float32)).numpy() == 0)


def test_bias_add(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 6)).astype(np.float32)
    layer, (y,) = check_layer(BiasAdd, [x.shape], tmp_path, expected_weights=1, input_fn=lambda _: [x])
    np.testing.assert_allclose(y, x + layer.get_weights()[0], rtol=1e-6)


def _reference_attention(q, k, v, heads, mask=None):
    b, t, d = q.shape
    split = lambda a: a.reshape(b, t, heads, d // heads).transpose(0, 2, 1, 3)  # noqa: E731
    scores = split(q) @ split(k).transpose(0, 1, 3, 2) / np.sqrt(d // heads)
    if mask is not None:
        scores = np.where(mask[:, None, None, :] > 0, scores, -1e9)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    return (weights @ split(v)).transpose(0, 2, 1, 3).reshape(b, t, d)


def test_scaled_dot_product_attention(tmp_path):
    rng = np.random.default_rng(0)
    q, k, v = (rng.normal(size=(2, 7, 8)).astype(np.float32) for _ in range(3))
    _, (y,) = check_layer(lambda: ScaledDotProductAttention(num_heads=2), [q.shape] * 3, tmp_path,
                          expected_weights=0, input_fn=lambda _: [q, k, v])
    np.testing.assert_allclose(y, _reference_attention(q, k, v, 2), rtol=1e-4, atol=1e-5)


def test_scaled_dot_product_attention_mask_ignores_padded_keys():
    rng = np.random.default_rng(0)
    q, k, v = (rng.normal(size=(1, 6, 8)).astype(np.float32) for _ in range(3))
    mask = np.array([[1, 1, 1, 1, 0, 0]], np.float32)
    layer = ScaledDotProductAttention(num_heads=2)
    y = layer([q, k, v, mask]).numpy()
    np.testing.assert_allclose(y, _reference_attention(q, k, v, 2, mask), rtol=1e-4, atol=1e-5)
    # Changing padded keys/values does not change the result.
    k2, v2 = k.copy(), v.copy()
    k2[:, 4:] += 5.0
    v2[:, 4:] -= 3.0
    np.testing.assert_allclose(layer([q, k2, v2, mask]).numpy(), y, rtol=1e-5, atol=1e-6)


def test_sinusoidal_positional_encoding(tmp_path):
    x = np.zeros((1, 9, 6), np.float32)
    _, (y,) = check_layer(SinusoidalPositionalEncoding, [x.shape], tmp_path, expected_weights=0,
                          input_fn=lambda _: [x])
    positions = np.arange(9)[:, None] / 10000.0 ** (np.arange(0, 6, 2) / 6)[None, :]
    np.testing.assert_allclose(y[0], np.concatenate([np.sin(positions), np.cos(positions)], -1), atol=1e-5)


def test_gated_linear_unit(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 4, 6)).astype(np.float32)
    _, (y,) = check_layer(GatedLinearUnit, [x.shape], tmp_path, expected_weights=0, input_fn=lambda _: [x])
    np.testing.assert_allclose(y, x[..., :3] / (1 + np.exp(-x[..., 3:])), rtol=1e-5, atol=1e-6)


def test_chunked_attention_sees_its_chunk_and_left_context_only(tmp_path):
    rng = np.random.default_rng(0)
    q, k, v = (rng.normal(size=(1, 10, 8)).astype(np.float32) for _ in range(3))
    make = lambda: ScaledDotProductAttention(num_heads=2, chunk_frames=4, left_context_frames=2)  # noqa: E731
    layer, (y,) = check_layer(make, [q.shape] * 3, tmp_path, expected_weights=0, input_fn=lambda _: [q, k, v])
    # chunks [0-3] [4-7] [8-9]; frame 5 sees 2..7, frame 9 sees 6..9
    mask = layer.chunk_mask(10).numpy()
    np.testing.assert_array_equal(np.flatnonzero(mask[0]), np.arange(0, 4))
    np.testing.assert_array_equal(np.flatnonzero(mask[5]), np.arange(2, 8))
    np.testing.assert_array_equal(np.flatnonzero(mask[9]), np.arange(6, 10))
    for frame in (0, 5, 9):
        key_mask = mask[frame][None]
        want = _reference_attention(q, k, v, 2, key_mask)[0, frame]
        np.testing.assert_allclose(y[0, frame], want, rtol=1e-4, atol=1e-5)


def test_chunks_shifted_by_a_lookahead_see_it(tmp_path):
    """Offset 2: chunks [0-1] [2-5] [6-9]; with 2 frames of look-ahead and 1 of left
    context, frame 3 sees 1..7 and frame 0 sees 0..3. Saved and reloaded with both."""
    rng = np.random.default_rng(0)
    q, k, v = (rng.normal(size=(1, 10, 8)).astype(np.float32) for _ in range(3))
    make = lambda: ScaledDotProductAttention(num_heads=2, chunk_frames=4, left_context_frames=1,  # noqa: E731
                                             chunk_offset=2, lookahead_frames=2)
    layer, (y,) = check_layer(make, [q.shape] * 3, tmp_path, expected_weights=0, input_fn=lambda _: [q, k, v])
    mask = layer.chunk_mask(10).numpy()
    for frame, seen in ((0, range(0, 4)), (1, range(0, 4)), (3, range(1, 8)), (6, range(5, 10)), (9, range(5, 10))):
        np.testing.assert_array_equal(np.flatnonzero(mask[frame]), np.array(seen), err_msg=f"frame {frame}")
        np.testing.assert_allclose(y[0, frame], _reference_attention(q, k, v, 2, mask[frame][None])[0, frame],
                                   rtol=1e-4, atol=1e-5)
    no_lookahead = ScaledDotProductAttention(num_heads=2, chunk_frames=4, left_context_frames=1, chunk_offset=2)
    np.testing.assert_array_equal(np.flatnonzero(no_lookahead.chunk_mask(10).numpy()[3]), np.arange(1, 6))


def test_last_frames(tmp_path):
    x = np.arange(2 * 5 * 3, dtype=np.float32).reshape(2, 5, 3)
    _, (y,) = check_layer(lambda: LastFrames(2), [x.shape], tmp_path, expected_weights=0, input_fn=lambda _: [x])
    np.testing.assert_array_equal(y, x[:, -2:])
    assert LastFrames(0)(x).shape == (2, 0, 3)


def test_streaming_key_mask(tmp_path):
    offsets = np.array([[0.0], [3.0], [9.0]], np.float32)  # before the first chunk, 3 frames in, long after
    layer = StreamingKeyMask(context_frames=4, chunk_frames=2)
    mask = layer(offsets).numpy()
    np.testing.assert_array_equal(mask, [[0, 0, 0, 0, 1, 1], [0, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1]])
    _, (y,) = check_layer(lambda: StreamingKeyMask(4, 2), [(1, 1)], tmp_path, expected_weights=0,
                          input_fn=lambda _: [offsets[1:2]])
    np.testing.assert_array_equal(y, mask[1:2])
    # look-ahead 2: keys are frames offset-6 .. offset-1; before the first call the last two
    # (the buffered look-ahead frames) do not exist yet either
    shifted = StreamingKeyMask(context_frames=4, chunk_frames=2, shift=2)(offsets).numpy()
    np.testing.assert_array_equal(shifted, [[0, 0, 0, 0, 0, 0], [0, 0, 0, 1, 1, 1], [1, 1, 1, 1, 1, 1]])
    (tmp_path / "shifted").mkdir()
    _, (y,) = check_layer(lambda: StreamingKeyMask(4, 2, shift=2), [(1, 1)], tmp_path / "shifted",
                          expected_weights=0, input_fn=lambda _: [offsets[1:2]])
    np.testing.assert_array_equal(y, shifted[1:2])
