package org.rtkeras.demo.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The finished utterances of a session, oldest first, for the scrolling history on screen and
 * for copying as text. Keeps the last {@code capacity}; numbering goes on past dropped ones.
 * Thread-safe.
 */
public final class TranscriptHistory {
    public static final String NOTHING = "(nothing recognised)";

    public static final class Entry {
        public final int number;
        public final String text;
        public final double seconds;
        /** How it was recognised (model, threads, latency); may be empty. */
        public final String detail;

        Entry(int number, String text, double seconds, String detail) {
            this.number = number;
            this.text = text;
            this.seconds = seconds;
            this.detail = detail;
        }

        /** "3. four one one (1.8 s)" */
        public String line() {
            return String.format(Locale.ROOT, "%d. %s (%.1f s)", number, text, seconds);
        }
    }

    private final int capacity;
    private final List<Entry> entries = new ArrayList<Entry>();
    private int added;

    public TranscriptHistory(int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity must be positive");
        }
        this.capacity = capacity;
    }

    /** Adds a finished utterance; an empty transcript is kept as "(nothing recognised)". */
    public synchronized Entry add(String text, double seconds, String detail) {
        String shown = text == null || text.trim().isEmpty() ? NOTHING : text.trim();
        Entry entry = new Entry(++added, shown, seconds, detail == null ? "" : detail);
        entries.add(entry);
        if (entries.size() > capacity) {
            entries.remove(0);
        }
        return entry;
    }

    public synchronized List<Entry> entries() {
        return new ArrayList<Entry>(entries);
    }

    public synchronized int size() {
        return entries.size();
    }

    public synchronized void clear() {
        entries.clear();
    }

    /** One line per utterance, oldest first: what the copy action puts on the clipboard. */
    public synchronized String toText() {
        StringBuilder text = new StringBuilder();
        for (Entry entry : entries) {
            text.append(entry.line()).append('\n');
        }
        return text.toString();
    }

    /** The transcripts alone, one per line, without the ones that recognised nothing. */
    public synchronized String transcripts() {
        StringBuilder text = new StringBuilder();
        for (Entry entry : entries) {
            if (!NOTHING.equals(entry.text)) {
                text.append(entry.text).append('\n');
            }
        }
        return text.toString();
    }
}
