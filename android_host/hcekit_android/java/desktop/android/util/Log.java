package android.util;

import java.util.ArrayList;
import java.util.List;

/** Desktop stand-in: keeps the lines so tests can check what the shim logged. */
public final class Log {
    private static final List<String> LINES = new ArrayList<>();

    private Log() {}

    private static int record(String level, String tag, String msg, Throwable error) {
        String line = level + "/" + tag + ": " + msg + (error == null ? "" : " (" + error + ")");
        synchronized (LINES) {
            LINES.add(line);
        }
        return line.length();
    }

    public static int d(String tag, String msg) { return record("D", tag, msg, null); }
    public static int i(String tag, String msg) { return record("I", tag, msg, null); }
    public static int w(String tag, String msg) { return record("W", tag, msg, null); }
    public static int e(String tag, String msg) { return record("E", tag, msg, null); }
    public static int e(String tag, String msg, Throwable tr) { return record("E", tag, msg, tr); }

    /** Desktop only: every line logged so far, oldest first. */
    public static String[] desktopLines() {
        synchronized (LINES) {
            return LINES.toArray(new String[0]);
        }
    }
}
