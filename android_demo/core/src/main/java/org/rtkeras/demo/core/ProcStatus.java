package org.rtkeras.demo.core;

import java.util.LinkedHashMap;
import java.util.Map;

/** Resident memory fields of /proc/self/status, in kB, keyed as in the footprint schema. */
public final class ProcStatus {
    private static final String[][] FIELDS = {
        {"VmRSS", "rss_kb"}, {"VmHWM", "hwm_kb"}, {"RssFile", "rss_file_kb"}, {"RssAnon", "rss_anon_kb"},
    };

    private ProcStatus() {
    }

    /** Schema key -> kB (absent fields map to null). */
    public static Map<String, Long> parse(String statusText) {
        Map<String, Long> out = new LinkedHashMap<String, Long>();
        for (String[] field : FIELDS) {
            out.put(field[1], null);
        }
        for (String line : statusText.split("\n")) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String key = line.substring(0, colon).trim();
            for (String[] field : FIELDS) {
                if (field[0].equals(key)) {
                    String[] parts = line.substring(colon + 1).trim().split("\\s+");
                    try {
                        out.put(field[1], Long.parseLong(parts[0]));
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("/proc/self/status: cannot read " + key + " from '"
                                + line + "'");
                    }
                }
            }
        }
        return out;
    }
}
