package com.google.ai.edge.litert;

/** Compile-only stub (see CompiledModel): Common.kt's abstract class JniHandle : AutoCloseable. */
public abstract class JniHandle implements AutoCloseable {
    JniHandle() {
    }

    protected abstract void destroy();

    /** override final fun close(): releases the native handle once. */
    @Override
    public final void close() {
        throw new UnsupportedOperationException("compile stub");
    }
}
