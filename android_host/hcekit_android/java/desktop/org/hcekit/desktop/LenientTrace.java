package org.hcekit.desktop;

import android.os.Trace;
import org.robolectric.annotation.Implementation;
import org.robolectric.annotation.Implements;

/**
 * {@code android.os.Trace}'s async sections as a phone has them: no-ops unless
 * a trace is being recorded, never an error.
 *
 * <p>Robolectric's ShadowTrace throws when a section opens twice. Android 16's
 * HostApduService (nfc_hce_latency_events) opens one per answer and closes it
 * on the NFC service's MSG_RESPONSE_APDU_ACK; for an answer returned from
 * processCommandApdu it puts the cookie on the command message, not the
 * answer (framework HostApduService.java:355-361 of the A16 NFC module), so the
 * acknowledgement cannot close it and the next answer would trip the shadow.
 */
@Implements(Trace.class)
public class LenientTrace {
    @Implementation
    protected static void beginAsyncSection(String methodName, int cookie) {}

    @Implementation
    protected static void endAsyncSection(String methodName, int cookie) {}
}
