package org.rtkeras.demo.core;

import java.util.ArrayList;
import java.util.List;

/** Greedy CTC decoding: best label per frame, repeats merged, blanks (index 0) dropped. */
public final class CtcGreedyDecoder {
    private final List<String> vocabulary;

    public CtcGreedyDecoder(List<String> vocabulary) {
        if (vocabulary.isEmpty()) {
            throw new IllegalArgumentException("empty vocabulary");
        }
        this.vocabulary = new ArrayList<String>(vocabulary);
    }

    /** Label ids of frames [0, frames) of logProbs[frame][label]. */
    public int[] decodeIds(float[][] logProbs, int frames) {
        List<Integer> ids = new ArrayList<Integer>();
        int previous = -1;
        for (int t = 0; t < Math.min(frames, logProbs.length); t++) {
            float[] row = logProbs[t];
            if (row.length != vocabulary.size()) {
                throw new IllegalArgumentException("frame " + t + " has " + row.length + " scores, vocabulary has "
                        + vocabulary.size() + " labels");
            }
            int best = 0;
            for (int k = 1; k < row.length; k++) {
                if (row[k] > row[best]) {
                    best = k;
                }
            }
            if (best != previous && best != 0) {
                ids.add(best);
            }
            previous = best;
        }
        int[] out = new int[ids.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ids.get(i);
        }
        return out;
    }

    /** Words joined by single spaces, e.g. "four one one". */
    public String decode(float[][] logProbs) {
        StringBuilder text = new StringBuilder();
        for (int id : decodeIds(logProbs, logProbs.length)) {
            if (text.length() > 0) {
                text.append(' ');
            }
            text.append(vocabulary.get(id));
        }
        return text.toString();
    }
}
