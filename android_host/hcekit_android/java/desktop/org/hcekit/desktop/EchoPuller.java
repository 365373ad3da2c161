package org.hcekit.desktop;

import java.util.Arrays;
import org.hcekit.bridge.HcekitBridge;

/**
 * The benchmark's same-path floor: a Java thread that pulls events and answers
 * exactly as the Python card's worker does (startPulling, awaitEvent, respond),
 * so the difference to the Python worker is Python and pyjnius alone.
 */
public final class EchoPuller implements Runnable {
    private volatile boolean running = true;
    private Thread thread;

    public void start() {
        HcekitBridge.startPulling();
        thread = new Thread(this, "echo-puller");
        thread.setDaemon(true);
        thread.start();
    }

    public void stop() throws InterruptedException {
        running = false;
        HcekitBridge.stopPulling();
        thread.join(10_000);
    }

    @Override
    public void run() {
        while (running) {
            byte[] event;
            try {
                event = HcekitBridge.awaitEvent(250);
            } catch (InterruptedException e) {
                return;
            }
            if (event == null || event[0] != HcekitBridge.EVENT_COMMAND) {
                continue;
            }
            int serial = ((event[1] & 0xFF) << 24) | ((event[2] & 0xFF) << 16)
                    | ((event[3] & 0xFF) << 8) | (event[4] & 0xFF);
            byte[] answer = Arrays.copyOfRange(event, 5, event.length + 2);
            answer[answer.length - 2] = (byte) 0x90;
            answer[answer.length - 1] = 0x00;
            HcekitBridge.respond(serial, answer);
        }
    }
}
