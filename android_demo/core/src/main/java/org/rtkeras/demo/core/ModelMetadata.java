package org.rtkeras.demo.core;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * The associated files tflite-support packs after the flatbuffer (a zip archive appended to
 * the model): the vocabulary and rt-keras' model info. Read from the zip's central directory,
 * so the model can be swapped without code changes.
 */
public final class ModelMetadata {
    public static final String VOCABULARY_FILE = "vocabulary.txt";
    public static final String MODEL_INFO_FILE = "rt_keras_model.json";

    private final Map<String, byte[]> files;

    private ModelMetadata(Map<String, byte[]> files) {
        this.files = files;
    }

    public Map<String, byte[]> files() {
        return files;
    }

    public List<String> vocabulary() {
        byte[] data = files.get(VOCABULARY_FILE);
        if (data == null) {
            throw new IllegalArgumentException("the model has no " + VOCABULARY_FILE
                    + " in its metadata; convert it with `rt-keras convert`");
        }
        return Vocabulary.parse(new String(data, StandardCharsets.UTF_8));
    }

    /** The sample rate recorded in rt_keras_model.json (Pcm.DEFAULT_SAMPLE_RATE when absent). */
    public int sampleRate() {
        return intField("sample_rate", Pcm.DEFAULT_SAMPLE_RATE);
    }

    /**
     * The fewest samples the model accepts: one analysis window of its front-end (shorter
     * input gives no frame and the interpreter fails to prepare). Pcm.DEFAULT_FRAME_LENGTH
     * for models converted before rt_keras_model.json recorded it.
     */
    public int minimumSamples() {
        return intField("frame_length", Pcm.DEFAULT_FRAME_LENGTH);
    }

    /** The decoding floor of rt_keras_model.json (decode.min_token_probability; 0 when absent, as in older files). */
    public double minTokenProbability() {
        Object value = modelInfo().get("min_token_probability");
        if (value == null) {
            return 0;
        }
        if (!(value instanceof Double) || !((Double) value >= 0 && (Double) value < 1)) {
            throw new IllegalArgumentException(MODEL_INFO_FILE + ": \"min_token_probability\" is not a probability in [0, 1)");
        }
        return (Double) value;
    }

    /** The run name, rt-keras version and conversion mode the host footprint report shows (null when absent). */
    public String name() {
        return stringField("run");
    }

    public String version() {
        return stringField("rt_keras_version");
    }

    public String mode() {
        return stringField("mode");
    }

    /** The state layout of a streaming model (`rt-keras convert --streaming`), or null for a whole-utterance model. */
    public StreamingLayout streamingLayout() {
        Object streaming = modelInfo().get("streaming");
        return streaming == null ? null : StreamingLayout.from(streaming);
    }

    /** rt_keras_model.json's top-level fields (empty when the model has none). */
    private Map<String, Object> modelInfo() {
        byte[] data = files.get(MODEL_INFO_FILE);
        if (data == null) {
            return new LinkedHashMap<String, Object>();
        }
        Object info;
        try {
            info = JsonReader.parse(new String(data, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(MODEL_INFO_FILE + ": " + e.getMessage());
        }
        if (!(info instanceof Map)) {
            throw new IllegalArgumentException(MODEL_INFO_FILE + ": expected a JSON object");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> fields = (Map<String, Object>) info;
        return fields;
    }

    /** A top-level string field of rt_keras_model.json, or null. */
    private String stringField(String name) {
        Object value = modelInfo().get(name);
        return value instanceof String ? (String) value : null;
    }

    private int intField(String name, int absent) {
        Object value = modelInfo().get(name);
        if (value == null) {
            return absent;
        }
        if (!(value instanceof Double) || (Double) value != Math.floor((Double) value)
                || Math.abs((Double) value) > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(MODEL_INFO_FILE + ": \"" + name + "\" is not an integer");
        }
        return ((Double) value).intValue();
    }

    public static ModelMetadata read(ByteBuffer model) {
        ByteBuffer buffer = model.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int size = buffer.limit();
        int eocd = -1;
        for (int i = size - 22; i >= Math.max(0, size - 22 - 65535); i--) {
            if (buffer.getInt(i) == 0x06054b50) {
                eocd = i;
                break;
            }
        }
        Map<String, byte[]> files = new LinkedHashMap<String, byte[]>();
        if (eocd < 0) {
            return new ModelMetadata(files); // no associated files
        }
        int entries = buffer.getShort(eocd + 10) & 0xffff;
        int directory = buffer.getInt(eocd + 16);
        int at = directory;
        for (int e = 0; e < entries; e++) {
            if (buffer.getInt(at) != 0x02014b50) {
                throw new IllegalArgumentException("corrupt associated-file archive in the model");
            }
            int method = buffer.getShort(at + 10) & 0xffff;
            int compressed = buffer.getInt(at + 20);
            int uncompressed = buffer.getInt(at + 24);
            int nameLength = buffer.getShort(at + 28) & 0xffff;
            int extraLength = buffer.getShort(at + 30) & 0xffff;
            int commentLength = buffer.getShort(at + 32) & 0xffff;
            int local = buffer.getInt(at + 42);
            String name = new String(bytes(buffer, at + 46, nameLength), StandardCharsets.UTF_8);
            int data = local + 30 + (buffer.getShort(local + 26) & 0xffff) + (buffer.getShort(local + 28) & 0xffff);
            byte[] raw = bytes(buffer, data, compressed);
            files.put(name, method == 0 ? raw : inflate(raw, uncompressed, name));
            at += 46 + nameLength + extraLength + commentLength;
        }
        return new ModelMetadata(files);
    }

    private static byte[] bytes(ByteBuffer buffer, int offset, int length) {
        byte[] out = new byte[length];
        for (int i = 0; i < length; i++) {
            out[i] = buffer.get(offset + i);
        }
        return out;
    }

    private static byte[] inflate(byte[] raw, int size, String name) {
        Inflater inflater = new Inflater(true);
        inflater.setInput(raw);
        ByteArrayOutputStream out = new ByteArrayOutputStream(size);
        byte[] chunk = new byte[4096];
        try {
            while (!inflater.finished()) {
                int n = inflater.inflate(chunk);
                if (n == 0 && inflater.needsInput()) {
                    break;
                }
                out.write(chunk, 0, n);
            }
        } catch (DataFormatException e) {
            throw new IllegalArgumentException("cannot inflate " + name + " from the model: " + e.getMessage());
        } finally {
            inflater.end();
        }
        return out.toByteArray();
    }
}
