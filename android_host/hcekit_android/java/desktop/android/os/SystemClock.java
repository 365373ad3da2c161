package android.os;

/** Desktop stand-in: milliseconds since the JVM started (Android: since boot, not counting sleep). */
public final class SystemClock {
    private static final long ORIGIN = System.nanoTime();

    private SystemClock() {}

    public static long uptimeMillis() {
        return (System.nanoTime() - ORIGIN) / 1_000_000L;
    }
}
