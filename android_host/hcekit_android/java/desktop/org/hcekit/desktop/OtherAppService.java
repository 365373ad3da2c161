package org.hcekit.desktop;

import android.nfc.cardemulation.HostApduService;
import android.os.Bundle;
import java.util.ArrayList;
import java.util.List;

/**
 * Another app's HCE service (pure Java): answers every command 9000 at once.
 * Selecting its AID deselects hcekit's service the way Android does. It
 * records what it is told (polling frames, deactivations), as an app would
 * see them, so tests can tell which app got a frame.
 */
public final class OtherAppService extends HostApduService {
    public static final String PACKAGE = "com.example.otherapp";
    public static final String AID = "F0E1D2C3B4A5";
    private static final byte[] OK = {(byte) 0x90, 0x00};
    private static final List<String> POLLING = new ArrayList<>();
    private static final List<Integer> DEACTIVATIONS = new ArrayList<>();

    @Override
    public byte[] processCommandApdu(byte[] commandApdu, Bundle extras) {
        return OK.clone();
    }

    @Override
    public void onDeactivated(int reason) {
        synchronized (DEACTIVATIONS) {
            DEACTIVATIONS.add(reason);
        }
    }

    /**
     * API 35+ processPollingFrames, through its erasure as in the shim. Each
     * call is recorded as one line: the frames' type letters, a custom frame's
     * data in hex after a colon, "!" when it triggered autoTransact; e.g. "O X U:6A02!".
     */
    @SuppressWarnings("rawtypes")
    public void processPollingFrames(List frames) {
        StringBuilder line = new StringBuilder();
        for (Object frame : frames) {
            if (line.length() > 0) {
                line.append(' ');
            }
            int type = PollingFrameCodec.type(frame);
            line.append((char) type);
            if (type == PollingFrameCodec.TYPE_UNKNOWN) {
                line.append(':').append(PollingFrameCodec.hex(frame));
            }
            if (PollingFrameCodec.triggeredAutoTransact(frame)) {
                line.append('!');
            }
        }
        synchronized (POLLING) {
            POLLING.add(line.toString());
        }
    }

    /** Tests: every processPollingFrames call so far (see there), oldest first. */
    public static List<String> pollingCalls() {
        synchronized (POLLING) {
            return new ArrayList<>(POLLING);
        }
    }

    /** Tests: every onDeactivated reason so far, oldest first. */
    public static List<Integer> deactivations() {
        synchronized (DEACTIVATIONS) {
            return new ArrayList<>(DEACTIVATIONS);
        }
    }

    static void forget() {
        synchronized (POLLING) {
            POLLING.clear();
        }
        synchronized (DEACTIVATIONS) {
            DEACTIVATIONS.clear();
        }
    }
}
