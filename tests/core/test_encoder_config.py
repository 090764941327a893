"""Encoder configs (rt_keras/core/encoder_config.py): invalid values name the field and what is
allowed; group membership for adjacent and shorter last groups."""

import pytest

from rt_keras.core.encoder_config import ConfigError, EncoderConfig, preset

RT = dict(group_size=2, rank=3, diagonal=True, dropout=0.0)


def tiny(**changes):
    return preset("tiny", **{**RT, **changes})


@pytest.mark.parametrize("changes,needle", [
    (dict(sharing="cyclic", group_size=3), "group_size=3"),
    (dict(rank=40), "rank[attn_q]=40"),
    (dict(rank={"ffn_in": 33}), "rank[ffn_in]=33"),
    (dict(rank={"attn_x": 2}), "unknown matrix name(s) ['attn_x']"),
    (dict(d_model=-4), "d_model=-4"),
    (dict(num_heads=3), "num_heads=3"),
    (dict(group_size=9), "group_size=9"),
    (dict(sharing="random"), "sharing='random'"),
    (dict(dropout=1.5), "dropout=1.5"),
])
def test_invalid_configurations_name_the_field_and_what_is_allowed(changes, needle):
    with pytest.raises(ConfigError) as error:
        tiny(**changes)
    assert needle in str(error.value)
    assert "allowed" in str(error.value) or "expected" in str(error.value) or "must" in str(error.value)


def test_adjacent_sharing_allows_a_shorter_last_group():
    config = EncoderConfig(num_layers=5, d_model=16, num_heads=2, ffn_dim=32, group_size=2)
    assert [config.group_of(layer) for layer in range(5)] == [0, 0, 1, 1, 2]
    assert config.num_groups == 3
