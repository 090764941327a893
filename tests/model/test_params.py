import json
import subprocess
import sys

import pytest

from rt_keras.core.encoder_config import preset
from rt_keras.model.encoder import build_encoder
from rt_keras.model.params import accounting, baseline_of, closed_form, count_parameters


@pytest.mark.parametrize("changes", [
    dict(),
    dict(group_size=2),
    dict(group_size=2, rank=3, diagonal=True),
    dict(group_size=4, rank={"attn_q": 1, "ffn_in": 5}, diagonal=True, diagonal_rectangular=False),
    dict(group_size=2, sharing="cyclic", rank=2, diagonal=True, use_bias=False),
    dict(group_size=3, rank=2, diagonal=True, conv_module=True),  # 4 layers: groups of 3 and 1
])
def test_counted_parameters_match_the_closed_form(changes):
    config = preset("tiny", **changes)
    counted = count_parameters(build_encoder(config, 16))
    want = closed_form(config)
    assert counted["breakdown"] == want["breakdown"]
    assert counted["encoder_params"] == want["encoder_params"]


def test_paper_preset_counted_on_the_built_model():
    config = preset("paper", group_size=3, rank=16, diagonal=True)
    result = accounting(config)
    assert result["baseline_encoder_params"] == 56_742_912  # 18 x 3,152,384: "56.7M"
    assert result["encoder_params"] == closed_form(config)["encoder_params"] == 21_703_680
    assert result["breakdown"]["shared"] == 6 * 3_145_728
    assert set(result["separate"]) == {"subsample", "final_norm"}


# The paper's quoted fractions; they follow from the formula when, as those figures
# imply, linear layers carry no bias and only the square (attention) matrices have a
# diagonal. Our default convention (biases per layer, FFN diagonal over min(d_in, d_out))
# is a little larger; docs/parameters.md explains the difference.
PAPER = {(3, 2): 34.0, (3, 16): 38.1, (6, 16): 21.5, (9, 16): 15.9}
DEFAULT = {(3, 2): 34.16, (3, 16): 38.25, (6, 16): 21.62, (9, 16): 16.07}


@pytest.mark.parametrize("k,r", sorted(PAPER))
def test_paper_fractions(k, r):
    paper_convention = preset("paper", group_size=k, rank=r, diagonal=True, use_bias=False,
                              diagonal_rectangular=False)
    fraction = (
        closed_form(paper_convention)["encoder_params"] / closed_form(baseline_of(paper_convention))["encoder_params"]
    )
    assert round(100 * fraction, 1) == PAPER[(k, r)]
    ours = preset("paper", group_size=k, rank=r, diagonal=True)
    fraction = closed_form(ours)["encoder_params"] / closed_form(baseline_of(ours))["encoder_params"]
    assert round(100 * fraction, 2) == DEFAULT[(k, r)]


def test_params_cli_json():
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "rt_keras.cli",
            "params",
            "--preset",
            "tiny",
            "--group-size",
            "2",
            "--rank",
            "3",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = json.loads(out)
    assert {"encoder_params", "baseline_encoder_params", "fraction", "breakdown"} <= set(result)
    assert result["fraction"] == pytest.approx(result["encoder_params"] / result["baseline_encoder_params"])
    assert result["config"]["diagonal"] is True  # on by default when R > 0
    assert (
        result["encoder_params"] == closed_form(preset("tiny", group_size=2, rank=3, diagonal=True))["encoder_params"]
    )


def test_params_cli_reports_invalid_config_clearly():
    run = subprocess.run(
        [sys.executable, "-m", "rt_keras.cli", "params", "--preset", "tiny", "--rank", "99"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2
    assert "rank[attn_q]=99" in run.stderr and "min(d_in, d_out)=32" in run.stderr
