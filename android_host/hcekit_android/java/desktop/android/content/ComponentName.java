package android.content;

import android.os.Parcelable;

/** Desktop stand-in with Android's constructors and accessors. */
public final class ComponentName implements Parcelable {
    private final String pkg;
    private final String cls;

    public ComponentName(String pkg, String cls) {
        if (pkg == null || cls == null) {
            throw new NullPointerException("package name and class name must not be null");
        }
        this.pkg = pkg;
        this.cls = cls;
    }

    public ComponentName(Context pkg, String cls) {
        this(pkg.getPackageName(), cls);
    }

    public String getPackageName() { return pkg; }
    public String getClassName() { return cls; }
    public String flattenToString() { return pkg + "/" + cls; }

    /** "package/class" (".class" relative to the package) back to a name, or null. */
    public static ComponentName unflattenFromString(String str) {
        int sep = str.indexOf('/');
        if (sep < 0 || sep + 1 >= str.length()) {
            return null;
        }
        String pkg = str.substring(0, sep);
        String cls = str.substring(sep + 1);
        if (cls.charAt(0) == '.') {
            cls = pkg + cls;
        }
        return new ComponentName(pkg, cls);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof ComponentName
                && ((ComponentName) other).pkg.equals(pkg)
                && ((ComponentName) other).cls.equals(cls);
    }

    @Override
    public int hashCode() { return pkg.hashCode() + cls.hashCode(); }

    @Override
    public String toString() { return "ComponentInfo{" + flattenToString() + "}"; }
}
