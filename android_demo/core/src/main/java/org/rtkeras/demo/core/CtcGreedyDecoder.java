package org.rtkeras.demo.core;

import java.util.ArrayList;
import java.util.List;

/**
 * Greedy CTC decoding: best label per frame, repeats merged, blanks (index 0) dropped; words,
 * characters or subwords. With a floor above 0 (the model's decode.min_token_probability,
 * {@link ModelMetadata#minTokenProbability()}), a label is kept only if its probability
 * reaches the floor on at least one frame of its run, as rt_keras.core.contracts.greedy_decode.
 */
public final class CtcGreedyDecoder {
    /** The word-boundary mark of character and subword vocabularies (as sentencepiece writes it). */
    public static final char WORD_BOUNDARY = '\u2581';

    private final List<String> vocabulary;
    private final boolean marksWordBoundaries;
    private final double logFloor;

    public CtcGreedyDecoder(List<String> vocabulary) {
        this(vocabulary, 0);
    }

    /** @param minTokenProbability the floor in [0, 1); 0 keeps every label */
    public CtcGreedyDecoder(List<String> vocabulary, double minTokenProbability) {
        if (vocabulary.isEmpty()) {
            throw new IllegalArgumentException("empty vocabulary");
        }
        if (!(minTokenProbability >= 0 && minTokenProbability < 1)) {
            throw new IllegalArgumentException("min token probability " + minTokenProbability + " is not in [0, 1)");
        }
        this.logFloor = minTokenProbability > 0 ? Math.log(minTokenProbability) : Double.NEGATIVE_INFINITY;
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
        double runBest = Double.NEGATIVE_INFINITY; // the best log-probability of the current run's label
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
            if (best != previous) {
                keepRun(ids, previous, runBest);
                runBest = Double.NEGATIVE_INFINITY;
            }
            runBest = Math.max(runBest, row[best]);
            previous = best;
        }
        keepRun(ids, previous, runBest);
        int[] out = new int[ids.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ids.get(i);
        }
        return out;
    }

    private void keepRun(List<Integer> ids, int label, double runBest) {
        if (label > 0 && (logFloor == Double.NEGATIVE_INFINITY || runBest >= logFloor)) {
            ids.add(label);
        }
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
