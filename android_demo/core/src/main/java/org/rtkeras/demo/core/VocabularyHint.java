package org.rtkeras.demo.core;

import java.util.ArrayList;
import java.util.List;

/**
 * What the model can recognise, in a line for the screen, from the vocabulary in its
 * metadata: a small word vocabulary is listed ("Say: zero, one, ..."); a character or
 * subword vocabulary gets a short hint instead of hundreds of pieces. The CTC blank (index 0),
 * the word-boundary mark alone and special tokens such as {@code <unk>} are left out.
 */
public final class VocabularyHint {
    /** Word vocabularies up to this size are listed in full. */
    public static final int LISTED_WORDS = 30;
    private static final int EXAMPLES = 8;

    private VocabularyHint() {
    }

    public static String describe(List<String> vocabulary) {
        List<String> tokens = new ArrayList<String>();
        boolean marks = false;
        boolean characters = true;
        for (int i = 1; i < vocabulary.size(); i++) {
            String token = vocabulary.get(i);
            marks |= token.indexOf(CtcGreedyDecoder.WORD_BOUNDARY) >= 0;
            String bare = token.replace(String.valueOf(CtcGreedyDecoder.WORD_BOUNDARY), "");
            if (bare.isEmpty() || (token.startsWith("<") && token.endsWith(">"))) {
                continue;
            }
            tokens.add(token);
            characters &= bare.length() == 1;
        }
        if (tokens.isEmpty()) {
            return "This model's vocabulary is empty.";
        }
        if (!marks && !characters) {
            if (tokens.size() <= LISTED_WORDS) {
                return "Say: " + join(tokens, tokens.size()) + " (the words this model knows; several in a row work).";
            }
            return "Say words from its " + tokens.size() + "-word vocabulary, e.g. " + join(tokens, EXAMPLES) + ", ...";
        }
        if (characters) {
            StringBuilder letters = new StringBuilder();
            for (String token : tokens) {
                letters.append(token.replace(String.valueOf(CtcGreedyDecoder.WORD_BOUNDARY), ""));
            }
            return "Spells what it hears with the " + tokens.size() + " characters " + letters
                    + ": say words like those it was trained on.";
        }
        return "Open vocabulary of " + tokens.size() + " word pieces: say words like those it was trained on.";
    }

    private static String join(List<String> tokens, int count) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < Math.min(count, tokens.size()); i++) {
            text.append(i == 0 ? "" : ", ").append(tokens.get(i));
        }
        return text.toString();
    }
}
