package android.content;

/** Desktop stand-in. */
public class ContextWrapper extends Context {
    /** The application's context (desktop: a plain Context of the same package). */
    public Context getApplicationContext() {
        return new Context();
    }
}
