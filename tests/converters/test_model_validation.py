"""load_model is the one place that turns a flatbuffer into objects the readers follow
without checks of their own (issue 32, finding 2): absent vectors become empty, an
operator that writes nothing, a graph output nobody writes and a stored shape that does
not fit the file are refused by name before anything is allocated; a damaged
associated-files zip is refused by every reader of metadata (finding 3)."""

import struct
import zipfile

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

from converters.dedup import dedup_bytes, pack
from converters.flatbuffer import (
    DamagedMetadata,
    NotATFLiteModel,
    activation_estimate,
    associated_files,
    load_model,
    with_associated_files,
)
from converters.footprint import FootprintError, static_report
from converters.weights import weights
from tests.converters.synthetic_models import speech_like_model


def _parsed(data=None):
    return schema.ModelT.InitFromPackedBuf(bytearray(data or speech_like_model()), 0)


def _static(tmp_path, data):
    path = tmp_path / "model.tflite"
    path.write_bytes(data)
    return path, static_report(path)


def test_every_optional_vector_is_present_after_loading():
    model = _parsed()
    model.signatureDefs = model.metadata = None
    model.subgraphs[0].operators[1].inputs = None
    model.subgraphs[0].tensors[2].shape = None
    model.subgraphs[0].tensors[2].name = None
    loaded = load_model(pack(model))
    assert loaded.signatureDefs == [] and loaded.metadata == []
    assert loaded.subgraphs[0].operators[1].inputs.tolist() == []
    assert loaded.subgraphs[0].tensors[2].shape.tolist() == [] and loaded.subgraphs[0].tensors[2].name == b""
    assert [w.shape for w in weights(loaded)][:1] == [[2]]  # the readers run on it


@pytest.mark.parametrize("outputs", [None, []], ids=["absent", "empty"])
def test_an_operator_writing_no_tensor_is_refused_by_name(tmp_path, outputs):
    """0281 (vtable entry of Operator.outputs zeroed) and 0927 (its length set to 0) gave
    footprint tracebacks in weights.py (op.outputs[0])."""
    model = _parsed()
    model.subgraphs[0].operators[1].outputs = outputs
    with pytest.raises(FootprintError, match=r"model.tflite: corrupted TFLite flatbuffer \(subgraph 0 operator 1 "
                                             r"\(FULLY_CONNECTED\) writes no tensor\)"):
        _static(tmp_path, pack(model))


def test_a_subgraph_without_operators_is_refused_by_name(tmp_path):
    """0351 (SubGraph vtable shortened: operators absent) gave a traceback in flatbuffer.py."""
    model = _parsed()
    model.subgraphs[0].operators = None
    with pytest.raises(FootprintError, match=r"output 'model/dense01/MatMul' \(tensor 6\) is written by no operator"):
        _static(tmp_path, pack(model))


def test_an_input_tensor_without_shape_or_type_is_refused_as_not_audio(tmp_path):
    """0370/0371 (Tensor vtable shortened to nothing): footprint took shape None."""
    model = _parsed()
    tensor = model.subgraphs[0].tensors[0]
    tensor.shape = tensor.shapeSignature = tensor.name = None
    with pytest.raises(FootprintError, match=r"input is not audio: .* got  float32 \[\]"):
        _static(tmp_path, pack(model))


@pytest.mark.parametrize("index,dim,value,needle", [
    (0, 1, 2147483647, r"tensor 0 'serving_default_audio:0': stored shape \[1, 2147483647\] needs 8,589,934,588 bytes"),
    (2, 0, 2147483647, r"tensor 2 'model/frames/Reshape': stored shape \[2147483647, 320\] needs"),
    (2, 1, -5, r"tensor 2 'model/frames/Reshape': stored shape \[50, -5\] has a negative dimension"),
    (3, 0, 128, r"tensor 3 'arith.constant0': stored shape \[128, 320\] needs 163,840 bytes; its buffer holds 81,920"),
])
def test_a_stored_shape_that_does_not_fit_the_file_is_refused_before_anything_is_allocated(index, dim, value, needle):
    """0834 / 0814 (a stored dimension set to 2^31 - 1) made the load check allocate 16 + 8 GiB."""
    model = _parsed()
    model.subgraphs[0].tensors[index].shape[dim] = value
    with pytest.raises(NotATFLiteModel, match=needle):
        load_model(pack(model), "damaged.tflite")


def test_an_element_count_that_overflows_is_refused():
    model = _parsed()
    model.subgraphs[0].tensors[2].shape = np.array([2147483647] * 3, np.int32)
    with pytest.raises(NotATFLiteModel, match="element count overflows"):
        load_model(pack(model), "damaged.tflite")


def test_the_tensor_bound_grows_with_the_file():
    """A large activation is legal in a large file: the bound is 256 MiB or twice the file."""
    model = _parsed()
    model.subgraphs[0].tensors[2].shape = np.array([300_000, 320], np.int32)  # 384 MB of float32
    with pytest.raises(NotATFLiteModel, match="may need at most 268,435,456"):
        load_model(pack(model))
    big = pack(model)
    load_model(big + b"\0" * (200 << 20))  # a 200 MB file may hold it


def test_activation_estimate_scales_with_the_square_of_a_longer_input():
    model = load_model(speech_like_model())
    stored = activation_estimate(model)
    assert stored == 4 * (16000 + 50 * 320 + 50 * 64 + 50 * 11)
    assert activation_estimate(model, 16000) == stored
    assert activation_estimate(model, 32000) == 4 * stored
    one = load_model(speech_like_model(stored_samples=1))
    assert activation_estimate(one, 16000) > activation_estimate(one) * 16000


def _with_zip(data=None):
    files = [(zipfile.ZipInfo("vocabulary.txt"), b"<blank>\nzero\none\n"),
             (zipfile.ZipInfo("rt_keras_model.json"), b'{"mode": "float32"}\n')]
    return with_associated_files(data or speech_like_model(), files)


def _damage_crc(data: bytes) -> bytes:
    """Flip one byte of the first archived file's contents (its CRC-32 no longer matches)."""
    info = associated_files(data)[0][0]
    damaged = bytearray(data)
    damaged[info.header_offset + 30 + len(info.filename)] ^= 0x20
    return bytes(damaged)


def test_a_damaged_associated_files_zip_is_one_error_naming_the_file_in_every_reader(tmp_path):
    """0953 ... 0999: `evaluate --tflite` gave a BadZipFile traceback (dedup refused cleanly)."""
    from converters.runner import check_loads

    damaged = _damage_crc(_with_zip())
    with pytest.raises(DamagedMetadata, match=r"^damaged associated files \(Bad CRC-32 for file 'vocabulary.txt'\)$"):
        associated_files(damaged)
    path = tmp_path / "damaged.tflite"
    path.write_bytes(damaged)
    with pytest.raises(NotATFLiteModel, match=rf"^{path}: its associated files .* are damaged"):
        dedup_bytes(damaged, str(path))
    with pytest.raises(DamagedMetadata, match=rf"^{path}: damaged associated files \(Bad CRC-32"):
        check_loads(path)  # what evaluate --tflite runs before it reads the metadata


def test_a_zip_entry_declaring_a_huge_size_is_refused_unread():
    data = bytearray(_with_zip())
    central = bytes(data).index(b"PK\x01\x02")  # the first central-directory entry
    struct.pack_into("<I", data, central + 24, 0xFFFFFFF0)  # its uncompressed size
    with pytest.raises(DamagedMetadata, match="declares 4,294,967,280 bytes; at most 16,777,216"):
        associated_files(bytes(data))
