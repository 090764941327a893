package org.rtkeras.demo.core;

import java.util.ArrayList;
import java.util.List;

/** The vocabulary file the converter packs into the model's metadata: one label per line. */
public final class Vocabulary {
    private Vocabulary() {
    }

    public static List<String> parse(String text) {
        List<String> labels = new ArrayList<String>();
        for (String line : text.split("\n")) {
            String label = line.trim();
            if (!label.isEmpty()) {
                labels.add(label);
            }
        }
        if (labels.isEmpty()) {
            throw new IllegalArgumentException("vocabulary file has no labels");
        }
        return labels;
    }
}
