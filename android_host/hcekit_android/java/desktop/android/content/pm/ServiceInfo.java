package android.content.pm;

import android.os.Bundle;

/** Desktop stand-in: the fields of a manifest {@code <service>} the shim reads. */
public class ServiceInfo {
    public String name;
    public String packageName;
    /** The full process name: the package, plus the {@code android:process} suffix if any. */
    public String processName;
    /** {@code <meta-data>} values, or null without GET_META_DATA or when there are none. */
    public Bundle metaData;
}
