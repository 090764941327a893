package com.google.ai.edge.litert;

import java.util.List;

/**
 * Compile-only stub (see CompiledModel): Model.kt's data class TensorType(elementType, layout:
 * Layout?) with data class Layout(dimensions: List<Int>, ...).
 */
public final class TensorType {
    private TensorType() {
    }

    /** val layout: Layout? (null when the tensor has no layout). */
    public Layout getLayout() {
        throw new UnsupportedOperationException("compile stub");
    }

    public static final class Layout {
        private Layout() {
        }

        /** val dimensions: List<Int>. */
        public List<Integer> getDimensions() {
            throw new UnsupportedOperationException("compile stub");
        }
    }
}
