package org.hcekit.bridge;

/**
 * What {@link HcekitBridge} needs from the platform it runs on: a log and a way
 * to start the Python service on a cold start.
 *
 * <p>The bridge itself is plain Java so that one copy of its static state can
 * be shared by the HCE service and the Python side even where they are loaded
 * by different class loaders (the desktop harness runs the service inside
 * Robolectric's sandbox and Python outside it). On a phone the service sets
 * {@code org.hcekit.android.AndroidBridgeHost} in its {@code onCreate}.
 */
public interface BridgeHost {
    int INFO = 4;
    int WARN = 5;
    int ERROR = 6;

    /** One log line at *level* ({@link #INFO}, {@link #WARN}, {@link #ERROR}); *error* may be null. */
    void log(int level, String message, Throwable error);

    /** Start the Python service class *className*; false (and a log line) if that failed. */
    boolean startPythonService(String className);
}
