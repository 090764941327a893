package com.google.ai.edge.litert;

/** Compile-only stub (see CompiledModel): LiteRtException.kt, a checked Exception in Java. */
public final class LiteRtException extends Exception {
    private static final long serialVersionUID = 1L;

    LiteRtException(String message) {
        super(message);
    }
}
