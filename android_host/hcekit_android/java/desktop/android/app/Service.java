package android.app;

import android.content.ContextWrapper;

/** Desktop stand-in. */
public abstract class Service extends ContextWrapper {}
