"""Activation memory (converters/activation_memory.py): the live-tensor sweep on a graph
small enough to count by hand, and on a real converted model, where it must grow with the
input like the tensors it sums."""

import pytest

from converters.activation_memory import activation_bytes, peak_live_bytes
from tests.helpers import requires_fsdd


def test_peak_counts_the_tensors_alive_together():
    # t0 (input) -> op0 -> t1 -> op1 -> t2;  op2 reads t0 and t2 -> t3 (output)
    operators = [([0], [1]), ([1], [2]), ([0, 2], [3])]
    sizes = {0: 10, 1: 100, 2: 1000, 3: 1}
    # op0: t0 + t1 = 110; op1: t0 + t1 + t2 = 1110; op2: t0 + t2 + t3 = 1011
    assert peak_live_bytes(operators, sizes, [0], [3]) == 1110
    # t1 is dead once op1 has read it: without t0 held to the end the peak is op1's t1 + t2
    assert peak_live_bytes([([0], [1]), ([1], [2]), ([2], [3])], sizes, [0], [3]) == 1100
    # constants (not in sizes) and optional inputs (-1) are not counted
    assert peak_live_bytes([([0, 7, -1], [1])], {0: 5, 1: 6}, [0], [1]) == 11


@requires_fsdd
def test_real_model_activations_grow_with_the_input(tiny_converted, tmp_path):
    path = tmp_path / "tiny.tflite"
    path.write_bytes(tiny_converted.shipped["float32"])
    one, two = (activation_bytes(str(path), seconds * 16000) for seconds in (1, 2))
    assert one["tensors"] == two["tensors"] > 50
    assert 4 * 16000 < one["peak_live_bytes"] < one["intermediate_bytes"]
    # every intermediate tensor is proportional to the frame count (attention's T x T aside)
    assert two["peak_live_bytes"] / one["peak_live_bytes"] == pytest.approx(2.0, rel=0.1)
    assert two["intermediate_bytes"] / one["intermediate_bytes"] == pytest.approx(2.0, rel=0.1)
