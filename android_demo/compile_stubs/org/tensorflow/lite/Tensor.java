package org.tensorflow.lite;

import java.nio.ByteBuffer;

/** Compile-only stub (see Interpreter). */
public interface Tensor {
    int[] shape();

    int numBytes();

    int numElements();

    ByteBuffer asReadOnlyBuffer();
}
