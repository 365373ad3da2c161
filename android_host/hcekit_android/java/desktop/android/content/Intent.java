package android.content;

import android.os.Parcelable;
import java.util.HashMap;
import java.util.Map;

/** Desktop stand-in: action, flags and the two putExtra overloads hcekit uses. */
public class Intent {
    public static final int FLAG_ACTIVITY_NEW_TASK = 0x10000000;

    private final String action;
    private final Map<String, Object> extras = new HashMap<>();
    private int flags;

    public Intent(String action) {
        this.action = action;
    }

    public String getAction() { return action; }
    public int getFlags() { return flags; }

    public Intent addFlags(int more) {
        flags |= more;
        return this;
    }

    public Intent putExtra(String name, String value) {
        extras.put(name, value);
        return this;
    }

    public Intent putExtra(String name, Parcelable value) {
        extras.put(name, value);
        return this;
    }

    public String getStringExtra(String name) {
        Object value = extras.get(name);
        return value instanceof String ? (String) value : null;
    }

    @SuppressWarnings("unchecked")
    public <T extends Parcelable> T getParcelableExtra(String name) {
        Object value = extras.get(name);
        return value instanceof Parcelable ? (T) value : null;
    }
}
