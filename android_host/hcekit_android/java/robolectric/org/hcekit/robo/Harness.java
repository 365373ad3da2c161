package org.hcekit.robo;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.runner.JUnitCore;
import org.junit.runner.Result;
import org.junit.runner.notification.Failure;

/**
 * Starts Robolectric's sandbox for the desktop harness and keeps it up.
 *
 * <p>Robolectric sets the framework up only around a JUnit test, so the
 * harness runs one test ({@code org.hcekit.desktop.PhoneSession}) on its own
 * thread; the test hands over the sandbox and blocks until {@link #stop}.
 * Python (pyjnius) then uses the framework from outside, through
 * {@link SandboxLoader}. Shared by both sides: Robolectric leaves this
 * package and {@code org.hcekit.bridge} to the parent loader.
 */
public final class Harness {
    private static final CountDownLatch READY = new CountDownLatch(1);
    private static final CountDownLatch STOP = new CountDownLatch(1);
    private static volatile String failure;
    private static volatile int apiLevel;

    private Harness() {}

    /**
     * Start the sandbox at Android API *level* (once per JVM); wait for it.
     *
     * @return null when it is up, else why not (Robolectric's failure trace).
     */
    public static synchronized String start(int level, long timeoutMillis) throws InterruptedException {
        if (apiLevel != 0) {
            return apiLevel == level ? null
                    : "the sandbox already runs API " + apiLevel + " (one level per JVM)";
        }
        apiLevel = level;
        System.setProperty("robolectric.enabledSdks", Integer.toString(level));
        Thread runner = new Thread(() -> {
            try {
                Result result = new JUnitCore().run(Class.forName("org.hcekit.desktop.PhoneSession"));
                for (Failure f : result.getFailures()) {
                    failure = f.getTrace();
                }
                if (result.getRunCount() == 0) {
                    failure = "Robolectric ran nothing at API " + level
                            + " (is its android-all jar in robolectric.dependency.dir, and the JDK new enough?)";
                }
            } catch (Throwable e) {
                failure = e.toString();
            } finally {
                READY.countDown();
            }
        }, "robolectric");
        runner.setDaemon(true);
        runner.start();
        if (!READY.await(timeoutMillis, TimeUnit.MILLISECONDS)) {
            return "Robolectric did not start within " + timeoutMillis + " ms";
        }
        return failure;
    }

    /** Called inside the sandbox by PhoneSession once the framework is set up. */
    public static void sandboxReady(ClassLoader loader) {
        SandboxLoader.use(loader);
        READY.countDown();
    }

    public static void awaitStop() throws InterruptedException {
        STOP.await();
    }

    public static void stop() {
        STOP.countDown();
    }

    public static int apiLevel() {
        return apiLevel;
    }
}
