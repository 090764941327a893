package org.tensorflow.lite;

import java.nio.ByteBuffer;

/**
 * Compile-only stub of the few LiteRT (org.tensorflow.lite) signatures LiteRtEngine uses, so CI
 * can compile the app against android.jar without Maven. Never packaged: Gradle builds use the
 * real com.google.ai.edge.litert:litert artifact. Checked against google-ai-edge/LiteRT
 * litert/kotlin/src/copied_from_tflite/java/org/tensorflow/lite/Interpreter.java and
 * InterpreterApi.java at commit f67457790c9c2ab67347d6fe53270e8d3df20868 (the 2.3.0
 * development line; see com.google.ai.edge.litert.CompiledModel in these stubs).
 */
public final class Interpreter implements AutoCloseable {
    public static final class Options {
        public Options setNumThreads(int threads) {
            throw new UnsupportedOperationException("compile stub");
        }
    }

    public Interpreter(ByteBuffer model, Options options) {
        throw new UnsupportedOperationException("compile stub");
    }

    public void resizeInput(int index, int[] shape) {
        throw new UnsupportedOperationException("compile stub");
    }

    public void allocateTensors() {
        throw new UnsupportedOperationException("compile stub");
    }

    public Tensor getOutputTensor(int index) {
        throw new UnsupportedOperationException("compile stub");
    }

    public String[] getSignatureKeys() {
        throw new UnsupportedOperationException("compile stub");
    }

    public String[] getSignatureInputs(String signatureKey) {
        throw new UnsupportedOperationException("compile stub");
    }

    public String[] getSignatureOutputs(String signatureKey) {
        throw new UnsupportedOperationException("compile stub");
    }

    public Tensor getInputTensorFromSignature(String inputName, String signatureKey) {
        throw new UnsupportedOperationException("compile stub");
    }

    public Tensor getOutputTensorFromSignature(String outputName, String signatureKey) {
        throw new UnsupportedOperationException("compile stub");
    }

    public void runSignature(java.util.Map<String, Object> inputs, java.util.Map<String, Object> outputs,
            String signatureKey) {
        throw new UnsupportedOperationException("compile stub");
    }

    public void run(Object input, Object output) {
        throw new UnsupportedOperationException("compile stub");
    }

    @Override
    public void close() {
        throw new UnsupportedOperationException("compile stub");
    }
}
