package org.hcekit.desktop;

import android.nfc.cardemulation.HostApduService;
import android.os.Bundle;

/**
 * Another app's HCE service (pure Java): answers every command 9000 at once.
 * Selecting its AID deselects hcekit's service the way Android does.
 */
public final class OtherAppService extends HostApduService {
    public static final String PACKAGE = "com.example.otherapp";
    public static final String AID = "F0E1D2C3B4A5";
    private static final byte[] OK = {(byte) 0x90, 0x00};

    @Override
    public byte[] processCommandApdu(byte[] commandApdu, Bundle extras) {
        return OK.clone();
    }

    @Override
    public void onDeactivated(int reason) {}
}
