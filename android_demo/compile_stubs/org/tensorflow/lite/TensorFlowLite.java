package org.tensorflow.lite;

/** Compile-only stub (see Interpreter). */
public final class TensorFlowLite {
    private TensorFlowLite() {
    }

    public static String runtimeVersion() {
        throw new UnsupportedOperationException("compile stub");
    }
}
