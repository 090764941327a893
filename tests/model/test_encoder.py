import numpy as np
import pytest

from converters import naming
from converters.flatbuffer import buffer_bytes, load_model
from converters.runner import run_tflite
from rt_keras.backend import keras
from rt_keras.core.contracts import subsampled_length
from rt_keras.core.encoder_config import MATRIX_NAMES, ConfigError, preset
from rt_keras.export.keras_to_tflite import convert_float32
from rt_keras.model.encoder import build_encoder, residual_projection, shared_weight_users
from rt_keras.model.params import count_parameters

NUM_FEATURES = 16
RT = dict(group_size=2, rank=3, diagonal=True, dropout=0.0)


def tiny(**changes):
    return preset("tiny", **{**RT, **changes})


def randomize(model, rng, skip=("shared",)):
    """Random values for per-layer weights (they start at zero, which would hide bugs)."""
    for layer in model.layers:
        if layer.weights and not layer.name.startswith(skip):
            layer.set_weights([rng.normal(scale=0.3, size=w.shape).astype(np.float32)
                               for w in layer.get_weights()])


def block_model(model, layer):
    """The function computed by Transformer block ``layer`` inside ``model``."""
    start = model.get_layer(naming.block(layer, "attn_norm")).input
    end = model.get_layer(naming.block(layer, "ffn_residual")).output
    return keras.Model(start, end)


def features(rng, batch=2, frames=24):
    return rng.normal(size=(batch, frames, NUM_FEATURES)).astype(np.float32)


@pytest.mark.parametrize("matrix", ["attn_q", "ffn_in", "ffn_out"])
def test_projection_equals_materialised_residual_matrix(matrix):
    config = tiny()
    d_in, d_out = config.matrix_shapes()[matrix]
    x = keras.Input((None, d_in))
    shared = {}
    outputs = [residual_projection(x, config, layer, matrix, shared) for layer in (0, 1)]
    model = keras.Model(x, outputs)
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(size=w.shape).astype(np.float32) for w in model.get_weights()])
    data = rng.normal(size=(2, 5, d_in)).astype(np.float32)
    got = model(data)
    w_g = model.get_layer(naming.shared(0, matrix)).get_weights()[0]
    for layer, y in zip((0, 1), got):
        a = model.get_layer(naming.low_rank_a(layer, matrix)).get_weights()[0]
        b, bias = model.get_layer(naming.low_rank_b(layer, matrix)).get_weights()
        diag = model.get_layer(naming.diagonal(layer, matrix)).get_weights()[0]
        dense_diag = np.zeros((d_in, d_out), np.float32)
        dense_diag[np.arange(diag.size), np.arange(diag.size)] = diag
        w_l = w_g + a @ b + dense_diag
        np.testing.assert_allclose(y.numpy(), data @ w_l + bias, rtol=1e-4, atol=1e-4)


def test_layers_of_a_group_start_equal_and_diverge_when_trained_weights_differ():
    model = build_encoder(tiny(), NUM_FEATURES)
    x = np.random.default_rng(1).normal(size=(2, 6, 32)).astype(np.float32)
    for first, second in ((0, 1), (2, 3)):  # groups of K=2 adjacent layers
        np.testing.assert_allclose(block_model(model, first)(x).numpy(),
                                   block_model(model, second)(x).numpy(), rtol=1e-5, atol=1e-5)
    randomize(model, np.random.default_rng(2))
    assert not np.allclose(block_model(model, 0)(x).numpy(), block_model(model, 1)(x).numpy(), atol=1e-3)


def test_fit_updates_shared_matrix_with_gradients_from_every_layer_of_the_group():
    rng = np.random.default_rng(0)
    model = build_encoder(tiny(), NUM_FEATURES)
    randomize(model, rng)
    for layer in model.layers:  # only W_g may change: any change of a block comes through it
        layer.trainable = layer.name.startswith("shared00_")
    x = rng.normal(size=(2, 6, 32)).astype(np.float32)
    blocks = [block_model(model, layer) for layer in range(4)]
    before = [b(x).numpy() for b in blocks]
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
    model.fit(features(rng), rng.normal(size=(2, 6, 32)).astype(np.float32), epochs=1, verbose=0)
    after = [b(x).numpy() for b in blocks]
    assert not np.allclose(before[0], after[0], atol=1e-4)  # both layers of group 0 changed
    assert not np.allclose(before[1], after[1], atol=1e-4)
    np.testing.assert_allclose(before[2], after[2], atol=1e-6)  # group 1 untouched
    np.testing.assert_allclose(before[3], after[3], atol=1e-6)


def test_shared_gradient_is_the_sum_of_the_per_layer_gradients():
    """The K=2 model and an unshared copy (each layer holding its own copy of W_g) compute
    the same function; dL/dW_g must equal the sum of the copies' gradients."""
    from rt_keras.backend import tf

    rng = np.random.default_rng(0)
    shared = build_encoder(tiny(), NUM_FEATURES)
    randomize(shared, rng)
    unshared = build_encoder(tiny(group_size=1), NUM_FEATURES)
    for layer in unshared.layers:
        source = layer.name
        if layer.name.startswith("shared"):
            index, matrix = int(layer.name[6:8]), layer.name[9:]
            source = naming.shared(index // 2, matrix)
        layer.set_weights(shared.get_layer(source).get_weights())
    x = features(rng)
    np.testing.assert_allclose(shared(x).numpy(), unshared(x).numpy(), rtol=1e-5, atol=1e-5)

    def gradients(model):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(model(x) ** 2)
        names = [v.name for v in model.trainable_variables]
        return dict(zip(names, tape.gradient(loss, model.trainable_variables)))

    g_shared, g_unshared = gradients(shared), gradients(unshared)
    for matrix in MATRIX_NAMES:
        want = g_unshared[f"{naming.shared(0, matrix)}/kernel:0"] + g_unshared[f"{naming.shared(1, matrix)}/kernel:0"]
        np.testing.assert_allclose(g_shared[f"{naming.shared(0, matrix)}/kernel:0"].numpy(), want.numpy(),
                                   rtol=1e-4, atol=1e-4)


def test_keras_round_trip_keeps_one_shared_weight(tmp_path):
    rng = np.random.default_rng(0)
    model = build_encoder(tiny(), NUM_FEATURES)
    randomize(model, rng)
    x = features(rng)
    path = tmp_path / "encoder.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), rtol=1e-6, atol=1e-6)
    assert count_parameters(loaded) == count_parameters(model)
    assert shared_weight_users(loaded) == {naming.shared(g, m): 2 for g in (0, 1) for m in MATRIX_NAMES}

    h = rng.normal(size=(2, 6, 32)).astype(np.float32)
    blocks = [block_model(loaded, layer) for layer in range(4)]
    before = [b(h).numpy() for b in blocks]
    kernel = loaded.get_layer(naming.shared(0, "ffn_in")).kernel
    kernel.assign(kernel + 0.5)
    after = [b(h).numpy() for b in blocks]
    assert not np.allclose(before[0], after[0], atol=1e-4)
    assert not np.allclose(before[1], after[1], atol=1e-4)
    np.testing.assert_array_equal(before[2], after[2])


def _buffers_holding(flatbuffer, array):
    """Indices of buffers whose bytes are ``array`` (as stored, or transposed as FC weights are)."""
    model = load_model(flatbuffer)
    candidates = {array.astype(np.float32).tobytes(), array.T.astype(np.float32).tobytes()}
    return [i for i in range(len(model.buffers)) if buffer_bytes(model, i) in candidates]


def test_float_tflite_matches_keras_and_stores_each_shared_matrix_once():
    rng = np.random.default_rng(0)
    model = build_encoder(tiny(), NUM_FEATURES)
    randomize(model, rng)
    x = features(rng, batch=1, frames=37)
    flatbuffer = convert_float32(model)
    (got,) = run_tflite(flatbuffer, x)
    assert got.shape == (1, subsampled_length(37), 32)
    np.testing.assert_allclose(got, model(x).numpy(), rtol=1e-4, atol=1e-4)
    for group in (0, 1):
        for matrix in MATRIX_NAMES:
            kernel = model.get_layer(naming.shared(group, matrix)).get_weights()[0]
            assert len(_buffers_holding(flatbuffer, kernel)) == 1, (group, matrix)


def test_unshared_baseline_is_plain_dense_layers_and_albert_keeps_biases_per_layer():
    baseline = build_encoder(tiny(group_size=1, rank=0, diagonal=False), NUM_FEATURES)
    assert shared_weight_users(baseline) == {naming.shared(layer, m): 1 for layer in range(4) for m in MATRIX_NAMES}
    assert all(baseline.get_layer(naming.shared(0, m)).use_bias for m in MATRIX_NAMES)
    albert = build_encoder(tiny(rank=0, diagonal=False), NUM_FEATURES)
    assert not any(albert.get_layer(naming.shared(0, m)).use_bias for m in MATRIX_NAMES)
    assert albert.get_layer(naming.bias(3, "ffn_out")).get_weights()[0].shape == (32,)


def test_cyclic_sharing_uses_group_l_mod_G():
    config = tiny(sharing="cyclic")
    assert [config.group_of(layer) for layer in range(4)] == [0, 1, 0, 1]
    model = build_encoder(config, NUM_FEATURES)
    x = np.random.default_rng(1).normal(size=(1, 5, 32)).astype(np.float32)
    np.testing.assert_allclose(block_model(model, 0)(x).numpy(), block_model(model, 2)(x).numpy(), atol=1e-5)


def test_conformer_convolution_module_builds_and_converts():
    model = build_encoder(tiny(conv_module=True, conv_kernel_size=5), NUM_FEATURES)
    x = features(np.random.default_rng(0), batch=1, frames=20)
    (got,) = run_tflite(convert_float32(model), x)
    np.testing.assert_allclose(got, model(x).numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("left_context", [0, 3])
def test_chunked_encoder_output_never_depends_on_later_audio(left_context):
    """With chunk_frames=C, the outputs of chunk c (frames < C(c+1) after subsampling)
    are the same whatever the features after frame 4C(c+1) are: what a streaming model
    needs to emit chunk c before the rest is spoken. Without chunks the future matters."""
    chunk = 3
    streaming = build_encoder(tiny(chunk_frames=chunk, left_context_frames=left_context), NUM_FEATURES)
    full = build_encoder(tiny(), NUM_FEATURES)
    rng = np.random.default_rng(0)
    x = features(rng, batch=1, frames=60)  # 15 output frames: chunks of 3
    for model, independent in ((streaming, True), (full, False)):
        model.set_weights([rng.normal(scale=0.3, size=w.shape).astype(np.float32) for w in model.get_weights()])
        reference = model(x).numpy()
        assert reference.shape == (1, 15, 32)
        for chunks_done in (1, 2, 4):
            frames = chunk * chunks_done
            changed = x.copy()
            changed[:, 4 * frames:] = rng.normal(size=changed[:, 4 * frames:].shape)
            out = model(changed).numpy()
            if independent:
                np.testing.assert_allclose(out[:, :frames], reference[:, :frames], rtol=0, atol=1e-6)
            else:
                assert np.abs(out[:, :frames] - reference[:, :frames]).max() > 1e-3
            assert np.abs(out[:, frames:] - reference[:, frames:]).max() > 1e-3  # later frames do change
    (got,) = run_tflite(convert_float32(streaming), x)
    np.testing.assert_allclose(got, streaming(x).numpy(), rtol=1e-4, atol=1e-4)


def test_lookahead_chunks_wait_for_their_lookahead_only():
    """lookahead_frames=R: chunk c is frames [cC - R, (c+1)C - R) and the first layer
    also sees the R frames after it, so the chunks before frame nC - R depend on the
    features before 4nC and on nothing later, and do use the R frames of look-ahead."""
    chunk, lookahead = 3, 2
    model = build_encoder(tiny(chunk_frames=chunk, left_context_frames=3, lookahead_frames=lookahead), NUM_FEATURES)
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(scale=0.3, size=w.shape).astype(np.float32) for w in model.get_weights()])
    x = features(rng, batch=1, frames=60)
    reference = model(x).numpy()
    for chunks_done in (1, 2, 4):
        ready = chunk * chunks_done - lookahead  # frames whose chunk has its look-ahead
        later = x.copy()
        later[:, 4 * chunk * chunks_done:] = rng.normal(size=later[:, 4 * chunk * chunks_done:].shape)
        out = model(later).numpy()
        np.testing.assert_allclose(out[:, :ready], reference[:, :ready], rtol=0, atol=1e-6)
        assert np.abs(out[:, ready:] - reference[:, ready:]).max() > 1e-3
        ahead = x.copy()  # only the look-ahead frames' features change
        ahead[:, 4 * ready:4 * chunk * chunks_done] += 1.0
        assert np.abs(model(ahead).numpy()[:, :ready] - reference[:, :ready]).max() > 1e-3
    (got,) = run_tflite(convert_float32(model), x)
    np.testing.assert_allclose(got, reference, rtol=1e-4, atol=1e-4)


def test_chunked_attention_settings_are_checked():
    with pytest.raises(ConfigError, match="left_context_frames=4; only applies with chunked attention"):
        tiny(left_context_frames=4)
    with pytest.raises(ConfigError, match="Conformer convolution module is not supported yet"):
        tiny(chunk_frames=4, conv_module=True)
    with pytest.raises(ConfigError, match="chunk_frames=-1; expected an integer >= 0"):
        tiny(chunk_frames=-1)
    with pytest.raises(ConfigError, match=r"lookahead_frames=4; expected fewer than chunk_frames=4"):
        tiny(chunk_frames=4, lookahead_frames=4)
    with pytest.raises(ConfigError, match=r"lookahead_frames=1; expected fewer than chunk_frames=0"):
        tiny(lookahead_frames=1)
