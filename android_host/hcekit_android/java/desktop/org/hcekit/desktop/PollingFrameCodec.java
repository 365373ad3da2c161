package org.hcekit.desktop;

import android.nfc.cardemulation.HostApduService;
import android.os.Parcelable;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code android.nfc.cardemulation.PollingFrame} (API 35+) for the model,
 * through reflection: the model compiles against older frameworks too, where
 * neither the class nor HostApduService's polling constants exist.
 */
final class PollingFrameCodec {
    static final int TYPE_UNKNOWN = 'U';  // PollingFrame.POLLING_LOOP_TYPE_UNKNOWN
    static final int TYPE_OFF = 'X';  // PollingFrame.POLLING_LOOP_TYPE_OFF
    static final int TYPE_ON = 'O';  // PollingFrame.POLLING_LOOP_TYPE_ON
    static final int TYPE_A = 'A';  // PollingFrame.POLLING_LOOP_TYPE_A
    static final int TYPE_B = 'B';  // PollingFrame.POLLING_LOOP_TYPE_B
    static final int TYPE_F = 'F';  // PollingFrame.POLLING_LOOP_TYPE_F
    static final int MSG_POLLING_LOOP = intConstant("MSG_POLLING_LOOP");
    static final String KEY_FRAMES = stringConstant("KEY_POLLING_LOOP_FRAMES_BUNDLE");

    private PollingFrameCodec() {}

    /** Real PollingFrames from the bridge's encoding (type, triggered, gain, timestamp, length, data). */
    static List<Object> decode(int count, byte[] encoded) {
        ByteBuffer in = ByteBuffer.wrap(encoded);
        List<Object> frames = new ArrayList<>(count);
        try {
            Class<?> type = Class.forName("android.nfc.cardemulation.PollingFrame");
            for (int i = 0; i < count; i++) {
                int kind = in.get() & 0xFF;
                boolean triggered = in.get() != 0;
                int gain = in.getInt();
                long timestamp = in.getLong();
                byte[] data = new byte[in.getShort() & 0xFFFF];
                in.get(data);
                frames.add(type.getConstructor(int.class, byte[].class, int.class, long.class,
                        boolean.class).newInstance(kind, data, gain, timestamp, triggered));
            }
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("this framework has no PollingFrame: " + e, e);
        }
        return frames;
    }

    static int type(Object frame) {
        return (Integer) call(frame, "getType");
    }

    static String hex(Object frame) {
        byte[] data = (byte[]) call(frame, "getData");
        StringBuilder out = new StringBuilder();
        for (byte b : data) {
            out.append(String.format(Locale.ROOT, "%02X", b & 0xFF));
        }
        return out.toString();
    }

    static boolean triggeredAutoTransact(Object frame) {
        return (Boolean) call(frame, "getTriggeredAutoTransact");
    }

    static void setTriggeredAutoTransact(Object frame) {
        try {
            frame.getClass().getMethod("setTriggeredAutoTransact", boolean.class).invoke(frame, true);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    static ArrayList<Parcelable> parcelables(List<Object> frames) {
        ArrayList<Parcelable> out = new ArrayList<>();
        for (Object frame : frames) {
            out.add((Parcelable) frame);
        }
        return out;
    }

    private static Object call(Object frame, String getter) {
        try {
            return frame.getClass().getMethod(getter).invoke(frame);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static int intConstant(String name) {
        try {
            return HostApduService.class.getField(name).getInt(null);
        } catch (ReflectiveOperationException e) {
            return -1;  // an older framework: no polling loop messages
        }
    }

    private static String stringConstant(String name) {
        try {
            return (String) HostApduService.class.getField(name).get(null);
        } catch (ReflectiveOperationException e) {
            return null;
        }
    }
}
