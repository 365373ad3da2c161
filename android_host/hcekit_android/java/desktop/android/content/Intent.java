package android.content;

import android.os.Parcelable;
import java.util.HashMap;
import java.util.Map;

/** Desktop stand-in: action, component, flags and the extras hcekit uses. */
public class Intent {
    public static final int FLAG_ACTIVITY_NEW_TASK = 0x10000000;
    public static final String ACTION_BOOT_COMPLETED = "android.intent.action.BOOT_COMPLETED";

    private String action;
    private ComponentName component;
    private final Map<String, Object> extras = new HashMap<>();
    private int flags;

    public Intent() {}

    public Intent(String action) {
        this.action = action;
    }

    /** An explicit intent for *cls* in *packageContext*'s package. */
    public Intent(Context packageContext, Class<?> cls) {
        this.component = new ComponentName(packageContext, cls.getName());
    }

    public String getAction() { return action; }
    public Intent setAction(String newAction) {
        action = newAction;
        return this;
    }

    public ComponentName getComponent() { return component; }
    public Intent setComponent(ComponentName newComponent) {
        component = newComponent;
        return this;
    }

    public Intent setClassName(String packageName, String className) {
        component = new ComponentName(packageName, className);
        return this;
    }

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
