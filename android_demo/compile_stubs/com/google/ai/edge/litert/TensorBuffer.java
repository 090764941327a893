package com.google.ai.edge.litert;

/** Compile-only stub (see CompiledModel): TensorBuffer.kt's writeFloat / readFloat. */
public final class TensorBuffer extends JniHandle {
    private TensorBuffer() {
    }

    /** @Throws(LiteRtException::class) fun writeFloat(data: FloatArray). */
    public void writeFloat(float[] data) throws LiteRtException {
        throw new UnsupportedOperationException("compile stub");
    }

    /** @Throws(LiteRtException::class) fun readFloat(): FloatArray. */
    public float[] readFloat() throws LiteRtException {
        throw new UnsupportedOperationException("compile stub");
    }

    @Override
    protected void destroy() {
        throw new UnsupportedOperationException("compile stub");
    }
}
