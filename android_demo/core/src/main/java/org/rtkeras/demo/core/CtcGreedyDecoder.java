package org.rtkeras.demo.core;

import java.util.ArrayList;
import java.util.List;

/** Greedy CTC decoding: best label per frame, repeats merged, blanks (index 0) dropped; words, characters or subwords. */
public final class CtcGreedyDecoder {
    /** The word-boundary mark of character and subword vocabularies (as sentencepiece writes it). */
    public static final char WORD_BOUNDARY = '\u2581';

    private final List<String> vocabulary;
    private final boolean marksWordBoundaries;

    public CtcGreedyDecoder(List<String> vocabulary) {
        if (vocabulary.isEmpty()) {
            throw new IllegalArgumentException("empty vocabulary");
        }
        this.vocabulary = new ArrayList<String>(vocabulary);
        boolean marks = false;
        for (String token : vocabulary) {
            marks |= token.indexOf(WORD_BOUNDARY) >= 0;
        }
        this.marksWordBoundaries = marks;
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

    /** The transcript of the best path, read as rt_keras.vocabulary.decode_tokens reads it. */
    public String decode(float[][] logProbs) {
        List<String> tokens = new ArrayList<String>();
        for (int id : decodeIds(logProbs, logProbs.length)) {
            tokens.add(vocabulary.get(id));
        }
        return join(tokens, marksWordBoundaries);
    }

    /**
     * Token strings to text. Character and subword vocabularies mark the start of a word with
     * U+2581 ("▁"): their tokens are concatenated and each mark becomes a space. Word
     * vocabularies have no mark: their tokens are joined by single spaces ("four one one").
     */
    public static String join(List<String> tokens, boolean marksWordBoundaries) {
        StringBuilder text = new StringBuilder();
        for (String token : tokens) {
            if (!marksWordBoundaries && text.length() > 0) {
                text.append(' ');
            }
            text.append(marksWordBoundaries ? token.replace(WORD_BOUNDARY, ' ') : token);
        }
        if (!marksWordBoundaries) {
            return text.toString();
        }
        return text.toString().trim().replaceAll(" +", " ");
    }
}
