package org.hcekit.desktop;

import org.hcekit.robo.Harness;
import org.hcekit.robo.PhoneRunner;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.robolectric.annotation.Config;
import org.robolectric.annotation.LooperMode;

/**
 * The one Robolectric "test" the desktop harness runs: it sets the sandbox up
 * (the real framework at the level {@code robolectric.enabledSdks} names, the
 * app as {@value Phone#PACKAGE}: the manifest named by the
 * {@code com/android/tools/test_config.properties} that {@code jvm.compile_java}
 * writes, as Android's build tools write it for Robolectric), hands the sandbox's class loader to
 * {@link Harness}, and keeps the sandbox alive until the harness stops.
 *
 * <p>INSTRUMENTATION_TEST looper mode: the app's main looper runs on its own
 * thread, as on a phone, while Python and the NFC service's thread post to it.
 */
@RunWith(PhoneRunner.class)
@Config(sdk = {34, 35, 36}, shadows = {RealCardEmulation.class, LenientTrace.class, ModelNfcAdapter.class})
@LooperMode(LooperMode.Mode.INSTRUMENTATION_TEST)
public class PhoneSession {
    @Test
    public void serve() throws Exception {
        Phone.reset();
        Harness.sandboxReady(PhoneSession.class.getClassLoader());
        Harness.awaitStop();
    }
}
