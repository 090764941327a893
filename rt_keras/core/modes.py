"""The conversion modes, in one place (no TensorFlow: the CLI's --help offers them)."""

MODES = ("float32", "float16", "dynamic", "int8", "qat-int8", "int4", "int4-shared", "qat-int4")
# int8 modes calibrate activation ranges on training audio
CALIBRATED_MODES = ("int8", "qat-int8")
# 4-bit weights by ai-edge-quantizer on the float32 file (converters.int4)
INT4_MODES = ("int4", "int4-shared", "qat-int4")
# from the 4-bit QAT run (RUN_DIR/qat4): its fake-quantised weights, recovered exactly as int4
QAT4_MODES = ("qat-int4",)
# Streaming files from the float model (int8: calibrated on streamed training audio, states
# included), and qat-int8 from the QAT step that carries the QAT run's weights and ranges.
STREAMING_MODES = tuple(mode for mode in MODES if mode not in QAT4_MODES)
# The shipped file of `rt-keras pipeline` and `make demo`.
PIPELINE_MODE = "qat-int8"
