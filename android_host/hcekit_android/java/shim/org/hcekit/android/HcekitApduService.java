package org.hcekit.android;

import android.nfc.cardemulation.HostApduService;
import android.os.Bundle;
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
}
