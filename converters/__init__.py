"""TFLite-level tools for any .tflite file: flatbuffer reading, dedup of shared tensors,
metadata, the LiteRT runner, weight inventory and footprint. Depends on numpy, flatbuffers,
ai-edge-litert and tflite-support only, never on rt_keras (which builds on it)."""
