package android.app;

import android.content.ContextWrapper;

/** Desktop stand-in (Android's sits below ContextThemeWrapper; the shim only needs a Context). */
public class Activity extends ContextWrapper {}
