package org.hcekit.desktop;

import java.util.Arrays;
import org.hcekit.bridge.ApduListener;
import org.hcekit.bridge.HcekitBridge;

/** Pure-Java listener answering command + 9000: the benchmark's floor for the bridge. */
public final class EchoListener implements ApduListener {
    public int deactivations;

    @Override
    public boolean onCommand(int serial, byte[] command) {
        byte[] answer = Arrays.copyOf(command, command.length + 2);
        answer[command.length] = (byte) 0x90;
        HcekitBridge.respond(serial, answer);
        return true;
    }

    @Override
    public void onDeactivated(int reason) {
        deactivations++;
    }
}
