package org.hcekit.bridge;

/**
 * What the Python side implements (pyjnius {@code PythonJavaClass}) to receive
 * the reader's traffic from {@link HcekitBridge}.
 *
 * <p>pyjnius cannot hand a Java {@code byte[]} back from a Python callback, so
 * the answer does not travel as a return value: Python calls
 * {@link HcekitBridge#respond(int, byte[])} with the command's serial number,
 * from inside the callback or later from any thread.
 */
public interface ApduListener {
    /**
     * A command APDU for this card.
     *
     * @return true if an answer will come through {@code respond}; false (also
     *     what pyjnius returns when the Python callback raised) makes the bridge
     *     answer 6F00 at once instead of waiting for the deadline.
     */
    boolean onCommand(int serial, byte[] command);

    /** The reader went away: {@code HostApduService.DEACTIVATION_LINK_LOSS} (0) or {@code _DESELECTED} (1). */
    void onDeactivated(int reason);
}
