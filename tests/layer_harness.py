"""One harness every public rt-keras layer goes through (after keras-hub's LayerTestCase):
build, call, get_config/from_config, .keras save/load, TFLite conversion vs Keras."""

from __future__ import annotations

import numpy as np

from converters.runner import run_tflite
from rt_keras.backend import keras
from rt_keras.export.keras_to_tflite import convert_float32


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def check_layer(layer_factory, input_shapes, tmp_path, expected_weights: int, expected_trainable: int | None = None,
                tflite_atol=1e-5, randomize_weights=True, input_fn=None):
    """Run a layer through build/call/config/save/TFLite; return (the built layer, its
    Keras outputs). The built layer holds ``expected_weights`` variables, of which
    ``expected_trainable`` (default: all) are trainable.

    ``input_shapes`` include the batch dimension; time dimensions are left dynamic in the
    model so conversion handles dynamic lengths too.
    """
    layer = layer_factory()
    inputs = [keras.Input((None,) * (len(shape) - 2) + tuple(shape[-1:]), name=f"in{i}")
              for i, shape in enumerate(input_shapes)]
    layer_inputs = inputs if len(inputs) > 1 else inputs[0]
    model = keras.Model(inputs, layer(layer_inputs))
    assert layer.built
    assert len(layer.weights) == expected_weights, [w.name for w in layer.weights]
    trainable = expected_weights if expected_trainable is None else expected_trainable
    assert len(layer.trainable_weights) == trainable, [w.name for w in layer.trainable_weights]

    rng = np.random.default_rng(0)
    if randomize_weights:  # zero-initialised weights would hide wiring mistakes
        layer.set_weights([rng.normal(size=w.shape).astype(np.float32) for w in layer.get_weights()])
    data = input_fn(rng) if input_fn else [rng.normal(size=s).astype(np.float32) for s in input_shapes]
    expected = [np.asarray(o) for o in _as_list(model(data if len(data) > 1 else data[0]))]
    assert all(np.all(np.isfinite(o)) for o in expected)

    # get_config / from_config reproduce the layer and its config.
    config = layer.get_config()
    clone = layer.__class__.from_config(config)
    assert clone.get_config() == config
    clone_model = keras.Model(inputs, clone(layer_inputs))
    clone.set_weights(layer.get_weights())
    for got, want in zip(_as_list(clone_model(data if len(data) > 1 else data[0])), expected):
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-6, atol=1e-6)

    # .keras round trip with no custom_objects (the layer is registered).
    path = tmp_path / "layer.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    for got, want in zip(_as_list(loaded.predict(data if len(data) > 1 else data[0], verbose=0)), expected):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)

    # TFLite (builtin ops only) computes the same thing.
    outputs = run_tflite(convert_float32(model), {f"in{i}": x for i, x in enumerate(data)})
    for got, want in zip(outputs, expected):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=tflite_atol)
    return layer, expected
