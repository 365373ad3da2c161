package org.hcekit.robo;

/**
 * The JVM's system class loader in the desktop harness
 * ({@code -Djava.system.class.loader}): once Robolectric's sandbox is up, the
 * Android framework and the app's classes come from the sandbox.
 *
 * <p>Why: pyjnius finds classes with JNI {@code FindClass}, which from a
 * Python thread uses the system class loader. Without this, Python would load
 * the plain (uninstrumented) framework classes beside the sandbox's, and the
 * bridge would talk to a second, dead copy of the app. Before the sandbox is
 * up these names are refused, so no plain copy can be cached for them.
 */
public final class SandboxLoader extends ClassLoader {
    static {
        registerAsParallelCapable();
    }

    private static volatile ClassLoader sandbox;

    public SandboxLoader(ClassLoader parent) {
        super(parent);
    }

    static void use(ClassLoader loader) {
        sandbox = loader;
    }

    /** The classes the sandbox owns (its instrumented framework, the app, the desktop model). */
    static boolean sandboxed(String name) {
        return name.startsWith("android.") || name.startsWith("com.android.")
                || name.startsWith("dalvik.") || name.startsWith("libcore.")
                || name.startsWith("org.hcekit.android.") || name.startsWith("org.hcekit.desktop.")
                || name.startsWith("org.hcekit.example.");
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        if (sandboxed(name)) {
            ClassLoader target = sandbox;
            if (target == null) {
                throw new ClassNotFoundException(name + ": the Robolectric sandbox is not up yet");
            }
            return target.loadClass(name);
        }
        return super.loadClass(name, resolve);
    }
}
