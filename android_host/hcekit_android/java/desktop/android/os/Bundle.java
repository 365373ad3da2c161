package android.os;

import java.util.HashMap;
import java.util.Map;

/** Desktop stand-in: the byte-array values HostApduService's messages carry. */
public final class Bundle {
    private final Map<String, Object> values = new HashMap<>();

    public void putByteArray(String key, byte[] value) {
        values.put(key, value);
    }

    public byte[] getByteArray(String key) {
        Object value = values.get(key);
        return value instanceof byte[] ? (byte[]) value : null;
    }
}
