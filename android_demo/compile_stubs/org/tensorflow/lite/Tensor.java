package org.tensorflow.lite;

/** Compile-only stub (see Interpreter). */
public interface Tensor {
    int[] shape();
}
