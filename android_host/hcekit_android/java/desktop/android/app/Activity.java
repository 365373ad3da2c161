package android.app;

import android.content.ContextWrapper;

/** Desktop stand-in (Android's sits below ContextThemeWrapper; the shim only needs a Context). */
public class Activity extends ContextWrapper {
    private boolean resumed = true;

    /** Whether the activity is in the resumed state (desktop: set by tests, true by default). */
    public boolean isResumed() {
        return resumed;
    }

    /** Desktop only. */
    public void desktopSetResumed(boolean value) {
        resumed = value;
    }
}
