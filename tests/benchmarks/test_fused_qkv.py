"""The fused-Q/K/V experiment (benchmarks/fused_qkv.py) measures the same function as the
model it fuses: otherwise its latency figures would compare different models."""


import numpy as np
import pytest

from benchmarks.fused_qkv import fused_qkv_model
from rt_keras.core import run_config
from rt_keras.model.asr import build_asr_model


@pytest.mark.parametrize("encoder", [
    {"group_size": 1, "rank": 0, "diagonal": False},  # the baseline
    {"group_size": 2, "rank": 3, "diagonal": True},  # rt
])
def test_fused_model_computes_the_same_function(encoder):
    config = run_config.from_dict({"name": "fused", "encoder": {"preset": "tiny", "dropout": 0.0, **encoder}})
    model = build_asr_model(config, 11)
    rng = np.random.default_rng(0)
    # Random values everywhere (B and d start at zero, which would hide a mis-placed block).
    model.set_weights([rng.normal(scale=0.2, size=w.shape).astype(np.float32) for w in model.get_weights()])
    fused = fused_qkv_model(model, config)
    names = {layer.name for layer in fused.layers}
    assert "shared00_attn_qkv" in names and "shared00_attn_q" not in names
    audio = rng.normal(scale=0.1, size=(2, 4000)).astype(np.float32)
    expected, got = model(audio, training=False).numpy(), fused(audio, training=False).numpy()
    assert np.abs(expected).max() > 0.1
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
