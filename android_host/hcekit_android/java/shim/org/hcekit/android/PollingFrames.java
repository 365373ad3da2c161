package org.hcekit.android;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.reflect.Method;
import java.util.List;

/**
 * {@code android.nfc.cardemulation.PollingFrame}s (API 35+) as the bytes
 * {@code HcekitBridge.pollingFrames} carries: per frame its type, whether it
 * triggered autoTransact, the vendor-specific gain, the timestamp and the data.
 * Read reflectively so that the shim compiles against frameworks without the class.
 */
final class PollingFrames {
    private PollingFrames() {}

    static byte[] encode(List<?> frames) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        try {
            for (Object frame : frames) {
                Class<?> type = frame.getClass();
                byte[] data = (byte[]) call(type, frame, "getData");
                out.writeByte((Integer) call(type, frame, "getType"));
                out.writeBoolean((Boolean) call(type, frame, "getTriggeredAutoTransact"));
                out.writeInt((Integer) call(type, frame, "getVendorSpecificGain"));
                out.writeLong((Long) call(type, frame, "getTimestamp"));
                byte[] payload = data == null ? new byte[0] : data;
                out.writeShort(payload.length);
                out.write(payload);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);  // a ByteArrayOutputStream does not fail
        }
        return bytes.toByteArray();
    }

    private static Object call(Class<?> type, Object frame, String getter) {
        try {
            Method method = type.getMethod(getter);
            return method.invoke(frame);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("PollingFrame." + getter + " is missing: " + e, e);
        }
    }
}
