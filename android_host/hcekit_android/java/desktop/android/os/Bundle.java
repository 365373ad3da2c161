package android.os;

import java.util.HashMap;
import java.util.Map;

/** Desktop stand-in: the byte-array and string values messages and meta-data carry. */
public final class Bundle {
    private final Map<String, Object> values = new HashMap<>();

    public void putByteArray(String key, byte[] value) {
        values.put(key, value);
    }

    public byte[] getByteArray(String key) {
        Object value = values.get(key);
        return value instanceof byte[] ? (byte[]) value : null;
    }

    public void putString(String key, String value) {
        values.put(key, value);
    }

    public String getString(String key) {
        Object value = values.get(key);
        return value instanceof String ? (String) value : null;
    }

    public void putInt(String key, int value) {
        values.put(key, value);
    }

    /** Android: the int, or *defaultValue* when missing or of another type. */
    public int getInt(String key, int defaultValue) {
        Object value = values.get(key);
        return value instanceof Integer ? (Integer) value : defaultValue;
    }

    public boolean containsKey(String key) {
        return values.containsKey(key);
    }
}
