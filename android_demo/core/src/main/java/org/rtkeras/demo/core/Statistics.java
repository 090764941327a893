package org.rtkeras.demo.core;

import java.util.Arrays;

/** Latency statistics as numpy computes them (percentile with linear interpolation). */
public final class Statistics {
    private Statistics() {
    }

    public static double percentile(double[] values, double q) {
        if (values.length == 0) {
            throw new IllegalArgumentException("no values");
        }
        if (q < 0 || q > 100) {
            throw new IllegalArgumentException("percentile must be in [0, 100], got " + q);
        }
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        double position = (sorted.length - 1) * q / 100.0;
        int low = (int) Math.floor(position);
        int high = (int) Math.ceil(position);
        return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
    }

    public static double median(double[] values) {
        return percentile(values, 50);
    }

    public static double min(double[] values) {
        return percentile(values, 0);
    }
}
