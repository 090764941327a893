"""TFLite metadata written with tflite-support's metadata writers: name, version,
description, the audio input (sample rate, channels), the output, and the vocabulary as
an associated label file, so an app can swap models without code changes.

tflite-support 0.4.4 is installed without its dependencies next to TF 2.21 (see the
Makefile); its top-level package cannot be imported beside TensorFlow, so the metadata
modules are imported directly, and only when metadata is written: they import TensorFlow,
which reading metadata does not need.
"""

from __future__ import annotations

import io
import json
import pathlib
import tempfile
import zipfile

from ai_edge_litert import schema_py_generated as schema

from converters.flatbuffer import DamagedMetadata, associated_files, with_associated_files

VOCABULARY_FILE = "vocabulary.txt"
MODEL_INFO_FILE = "rt_keras_model.json"
METADATA_BUFFER_NAME = "TFLITE_METADATA"  # the model.metadata entry tflite-support writes


def add_metadata(model: bytes, *, name: str, version: str, description: str, sample_rate: int,
                 vocabulary: list[str], info: dict | None = None, state: dict | None = None) -> bytes:
    """``model`` with metadata and associated files (the vocabulary, one token per line in
    output-index order, and ``info`` as JSON) packed in. A streaming model's other inputs
    and outputs are its ``state`` ({input name: output name}); they get plain tensor
    metadata, in the model's own input and output order."""
    from tensorflow_lite_support.metadata.python.metadata_writers import metadata_info, metadata_writer

    with tempfile.TemporaryDirectory() as tmp:
        vocabulary_path = pathlib.Path(tmp) / VOCABULARY_FILE
        vocabulary_path.write_text("\n".join(vocabulary) + "\n")
        info_path = pathlib.Path(tmp) / MODEL_INFO_FILE
        info_path.write_text(json.dumps(info or {}, indent=1, sort_keys=True) + "\n")
        audio = metadata_info.InputAudioTensorMd(
            name="audio", sample_rate=sample_rate, channels=1,
            description=f"one utterance of raw mono float32 PCM in [-1, 1] at {sample_rate} Hz, shape [1, samples]")
        log_probs = metadata_info.TensorMd(
            name="log_probs",
            description=f"per-frame CTC log-probabilities [1, frames, {len(vocabulary)}] over the vocabulary "
                        f"({VOCABULARY_FILE}; index 0 is the blank); one frame per 40 ms",
            associated_files=[metadata_info.LabelFileMd(str(vocabulary_path))])
        general = metadata_info.GeneralMd(name=name, version=version, description=description).create_metadata()
        general.associatedFiles = [metadata_info.AssociatedFileMd(
            str(info_path), description="how rt-keras built and converted this model (JSON)").create_metadata()]
        inputs, outputs = [audio.create_metadata()], [log_probs.create_metadata()]
        if state:
            inputs, outputs = _with_state_metadata(model, state, inputs[0], outputs[0], metadata_info)
        writer = metadata_writer.MetadataWriter.create_from_metadata(
            bytearray(model), general, inputs, outputs, associated_files=[str(vocabulary_path), str(info_path)])
        return _fixed_zip_timestamps(bytes(writer.populate()))


def signature_names(model: bytes) -> tuple[list[str], list[str]]:
    """The names of subgraph 0's inputs and outputs in the model's order, as its
    signature calls them (``serving_default_audio:0`` -> ``audio``)."""
    from converters.flatbuffer import load_model, tensor_name

    parsed = load_model(model)
    subgraph = parsed.subgraphs[0]
    clean = lambda t: tensor_name(subgraph.tensors[t]).removeprefix("serving_default_").split(":")[0]  # noqa: E731
    inputs = [clean(t) for t in subgraph.inputs]
    signature = (parsed.signatureDefs or [None])[0]
    if signature is not None:  # outputs are named output_0, output_1, ... in the signature
        by_tensor = {o.tensorIndex: o.name.decode("utf-8", errors="replace") if isinstance(o.name, bytes) else o.name
                     for o in signature.outputs}
        outputs = [by_tensor.get(int(t), clean(t)) for t in subgraph.outputs]
    else:
        outputs = [clean(t) for t in subgraph.outputs]
    return inputs, outputs


def _with_state_metadata(model, state, audio, log_probs, metadata_info):
    inputs, outputs = signature_names(model)
    produced = {output: name for name, output in state.items()}
    input_md = [audio if n == "audio" else metadata_info.TensorMd(
        name=n, description="streaming state in: zeros before the first chunk, then the matching state "
                            "output of the previous call").create_metadata() for n in inputs]
    output_md = [log_probs if n not in produced else metadata_info.TensorMd(
        name=produced[n], description=f"streaming state out: the next call's {produced[n]} input").create_metadata()
                 for n in outputs]
    return input_md, output_md


def _fixed_zip_timestamps(model: bytes) -> bytes:
    """The associated-files zip that tflite-support appends stamps each file with the time
    of writing; stamped 1980-01-01 instead, the same run converts to the same bytes."""
    files = associated_files(model)
    if not files:
        return model
    return with_associated_files(model[:min(info.header_offset for info, _ in files)], files)


def read_metadata(model: bytes, source: str | None = None) -> dict | None:
    """The metadata of ``model`` as a dict (None if it has none): name, version,
    description, the audio input's sample rate and channels, the associated files, the
    vocabulary and the rt-keras model info.

    Read with the pure-Python flatbuffer code (tflite-support's JSON converter is C++ and
    crashes the process on a damaged metadata table). A damaged table, archive or model
    info raises DamagedMetadata (a ValueError) naming ``source`` and the problem."""
    try:
        return _read_metadata(model)
    except DamagedMetadata as error:
        raise DamagedMetadata(f"{source}: {error}" if source else str(error)) from None


# Sample rates metadata may state (8 kHz telephone band to 192 kHz studio audio).
METADATA_SAMPLE_RATES = (1000, 384000)


def _read_metadata(model: bytes) -> dict | None:
    from tensorflow_lite_support.metadata import metadata_schema_py_generated as metadata_schema

    try:
        root = schema.Model.GetRootAsModel(model, 0)
        entries = [root.Metadata(i) for i in range(root.MetadataLength())]
        buffer = next((m.Buffer() for m in entries if m.Name() == METADATA_BUFFER_NAME.encode()), None)
        if buffer is None:
            return None
        table = root.Buffers(buffer).DataAsNumpy().tobytes()
        metadata = metadata_schema.ModelMetadataT.InitFromPackedBuf(bytearray(table), 0)
    except Exception as error:  # the flatbuffers runtime raises assorted errors on damaged input
        raise DamagedMetadata(f"damaged TFLite metadata ({type(error).__name__}: {error})") from None

    def text(value):
        return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value

    result = {"name": text(metadata.name), "version": text(metadata.version),
              "description": text(metadata.description)}
    subgraphs = metadata.subgraphMetadata or []
    for tensor in (subgraphs[0].inputTensorMetadata or []) if subgraphs else []:
        properties = tensor.content.contentProperties if tensor.content else None
        if isinstance(properties, metadata_schema.AudioPropertiesT):
            low, high = METADATA_SAMPLE_RATES
            if not low <= properties.sampleRate <= high or not 1 <= properties.channels <= 64:
                raise DamagedMetadata(f"damaged TFLite metadata (audio input of {properties.sampleRate} Hz, "
                                      f"{properties.channels} channels)")
            result["sample_rate"], result["channels"] = properties.sampleRate, properties.channels
    files = {info.filename: data for info, data in associated_files(model)}
    result["associated_files"] = sorted(files)
    if VOCABULARY_FILE in files:
        result["vocabulary"] = files[VOCABULARY_FILE].decode("utf-8", errors="replace").split()
    if MODEL_INFO_FILE in files:
        try:
            result["info"] = json.loads(files[MODEL_INFO_FILE])
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise DamagedMetadata(f"damaged {MODEL_INFO_FILE} ({error})") from None
        if not isinstance(result["info"], dict):
            raise DamagedMetadata(f"damaged {MODEL_INFO_FILE} (a JSON {type(result['info']).__name__}, not an object)")
        _check_streaming_layout(result["info"].get("streaming"))
    return result


def _check_streaming_layout(layout) -> None:
    """A streaming model's state layout, as the runner and footprint read it."""
    if not layout:
        return

    def is_count(value) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << 24

    states = layout.get("state") if isinstance(layout, dict) else None
    ok = (isinstance(layout, dict) and is_count(layout.get("chunk_samples")) and layout["chunk_samples"] > 0
          and isinstance(layout.get("algorithmic_latency_ms"), (int, float)) and isinstance(states, list)
          and all(isinstance(state, dict) and isinstance(state.get("name"), str)
                  and isinstance(state.get("output"), str) and isinstance(state.get("shape"), list)
                  and all(is_count(d) for d in state["shape"]) for state in states))
    if not ok:
        raise DamagedMetadata(f"damaged {MODEL_INFO_FILE} (its streaming layout lacks chunk_samples, "
                              "algorithmic_latency_ms or a state's name, output or shape)")


def metadata_bytes(model: bytes) -> int:
    """Bytes the metadata adds to ``model``: the TFLite metadata flatbuffer and the archive
    of associated files after the model (read in place, without unpacking the weights)."""
    try:
        root = schema.Model.GetRootAsModel(model, 0)
        entries = (root.Metadata(i) for i in range(root.MetadataLength()))
        table = sum(root.Buffers(m.Buffer()).DataLength() for m in entries
                    if m.Name() == METADATA_BUFFER_NAME.encode())
        archive = 0
        if zipfile.is_zipfile(io.BytesIO(model)):
            with zipfile.ZipFile(io.BytesIO(model)) as files:
                archive = len(model) - min((info.header_offset for info in files.infolist()), default=len(model))
    except Exception as error:  # damaged input raises assorted errors
        raise DamagedMetadata(f"damaged TFLite metadata ({type(error).__name__}: {error})") from None
    return table + archive
