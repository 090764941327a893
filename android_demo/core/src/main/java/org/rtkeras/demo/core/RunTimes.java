package org.rtkeras.demo.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Inference times of one loaded engine: the first inference (which pays for lazy set-up:
 * tensor allocation, XNNPACK's first run) apart from the steady-state ones after it, as the
 * host's footprint keeps warm-up runs out of its latency. The steady state is the last
 * {@link #KEPT} inferences (a streaming model listening for an hour runs 36,000 chunks).
 * Thread-safe.
 */
public final class RunTimes {
    public static final int KEPT = 1000;
    private Double firstMs;
    private final List<Double> steady = new ArrayList<Double>();
    private int next;

    /** Records one inference of {@code ms}; the first one recorded is the first inference. */
    public synchronized void add(double ms) {
        if (firstMs == null) {
            firstMs = ms;
        } else if (steady.size() < KEPT) {
            steady.add(ms);
        } else {
            steady.set(next, ms);
            next = (next + 1) % KEPT;
        }
    }

    /** The first inference's time, or null before it. */
    public synchronized Double firstMs() {
        return firstMs;
    }

    public synchronized int steadyRuns() {
        return steady.size();
    }

    /** Median of the inferences after the first; NaN before there is one. */
    public synchronized double steadyMedianMs() {
        if (steady.isEmpty()) {
            return Double.NaN;
        }
        double[] values = new double[steady.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = steady.get(i);
        }
        return Statistics.median(values);
    }

    /** E.g. "load 120 ms (once), first inference 80 ms, then median 31 ms over 4". */
    public String summary(double loadMs) {
        StringBuilder text = new StringBuilder(String.format(Locale.ROOT, "load %.0f ms (once)", loadMs));
        Double first = firstMs();
        if (first != null) {
            text.append(String.format(Locale.ROOT, ", first inference %.0f ms", first));
        }
        int steady = steadyRuns();
        if (steady > 0) {
            text.append(String.format(Locale.ROOT, ", then median %.0f ms over %d", steadyMedianMs(), steady));
        }
        return text.toString();
    }
}
