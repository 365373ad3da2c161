package org.hcekit.android;

import android.nfc.cardemulation.HostApduService;
import android.os.Bundle;
import java.util.List;
import org.hcekit.bridge.HcekitBridge;

/**
 * The HCE service Android instantiates from the manifest.
 *
 * <p>It exists only because Android needs a compiled class extending
 * {@link HostApduService} (pyjnius can implement interfaces, not extend
 * classes). All behaviour lives in {@link HcekitBridge}, which outlives
 * service instances and is where the Python side attaches.
 */
public class HcekitApduService extends HostApduService implements HcekitBridge.ResponseSink {
    @Override
    public void onCreate() {
        super.onCreate();
        AndroidBridgeHost.configure(this);  // logging, and the Python service a cold start starts
    }

    @Override
    public byte[] processCommandApdu(byte[] commandApdu, Bundle extras) {
        return HcekitBridge.command(this, commandApdu);
    }

    @Override
    public void onDeactivated(int reason) {
        HcekitBridge.deactivated(this, reason);
    }

    @Override
    public void sendResponse(byte[] response) {
        sendResponseApdu(response);
    }

    /**
     * Android 15's observe mode: the reader's polling frames, on the main
     * thread. Handed to the card's thread as bytes, never waited for.
     *
     * <p>Overrides {@code processPollingFrames(List<PollingFrame>)} of API 35+
     * through its erasure, so the shim still compiles against older
     * frameworks (where it is an ordinary method nobody calls); the frames are
     * read through {@link PollingFrames}.
     */
    @SuppressWarnings("rawtypes")
    public void processPollingFrames(List frames) {
        HcekitBridge.pollingFrames(frames.size(), PollingFrames.encode(frames));
    }
}
