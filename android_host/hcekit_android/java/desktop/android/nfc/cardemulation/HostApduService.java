package android.nfc.cardemulation;

import android.app.Service;
import android.content.Intent;
import android.os.Bundle;
import android.os.Handler;
import android.os.IBinder;
import android.os.Message;
import android.os.Messenger;
import android.os.RemoteException;
import android.util.Log;

/**
 * Desktop stand-in with AOSP's constants and message protocol.
 *
 * <p>Modelled on AOSP {@code HostApduService}: the NFC service binds
 * ({@link #onBind} returns a {@link Messenger} on a handler created on the
 * app's main thread) and sends MSG_COMMAND_APDU; the handler calls
 * {@link #processCommandApdu} on the main thread and, if it returned bytes,
 * sends them back. {@link #sendResponseApdu} never sends anything itself: it
 * posts MSG_RESPONSE_APDU to that same main-thread handler, so an answer given
 * from another thread leaves only when the main thread is free. After
 * MSG_DEACTIVATED the service forgets the NFC service's messenger, and
 * answers are dropped ("service was deactivated") until the next command.
 */
public abstract class HostApduService extends Service {
    public static final String SERVICE_INTERFACE =
            "android.nfc.cardemulation.action.HOST_APDU_SERVICE";
    public static final String SERVICE_META_DATA = "android.nfc.cardemulation.host_apdu_service";
    public static final int DEACTIVATION_LINK_LOSS = 0;
    public static final int DEACTIVATION_DESELECTED = 1;

    // @hide in AOSP; the values the NFC service and the service exchange.
    public static final int MSG_COMMAND_APDU = 0;
    public static final int MSG_RESPONSE_APDU = 1;
    public static final int MSG_DEACTIVATED = 2;
    public static final int MSG_UNHANDLED = 3;
    public static final String KEY_DATA = "data";

    static final String TAG = "ApduService";

    /** The NFC service's messenger; main thread only. */
    private Messenger nfcService;

    private final Messenger messenger = new Messenger(new MainThreadHandler());

    private final class MainThreadHandler extends Handler {
        @Override
        public void handleMessage(Message msg) {
            switch (msg.what) {
                case MSG_COMMAND_APDU:
                    onCommandMessage(msg);
                    break;
                case MSG_RESPONSE_APDU:
                case MSG_UNHANDLED:
                    forward(msg);
                    break;
                case MSG_DEACTIVATED:
                    nfcService = null;
                    onDeactivated(msg.arg1);
                    break;
                default:
                    super.handleMessage(msg);
            }
        }
    }

    private void onCommandMessage(Message msg) {
        if (nfcService == null) {
            nfcService = msg.replyTo;
        }
        byte[] apdu = msg.getData().getByteArray(KEY_DATA);
        if (apdu == null) {
            Log.e(TAG, "command message without data");
            return;
        }
        byte[] response = processCommandApdu(apdu, null);
        if (response != null) {
            Message reply = Message.obtain(null, MSG_RESPONSE_APDU);
            reply.getData().putByteArray(KEY_DATA, response);
            forward(reply);
        }
    }

    private void forward(Message msg) {
        if (nfcService == null) {
            Log.e(TAG, "Response not sent; service was deactivated.");
            return;
        }
        Message copy = Message.obtain(null, msg.what);
        copy.setData(msg.peekData());
        copy.replyTo = messenger;
        try {
            nfcService.send(copy);
        } catch (RemoteException e) {
            Log.e(TAG, "RemoteException calling into NfcService.");
        }
    }

    @Override
    public final IBinder onBind(Intent intent) {
        return messenger.getBinder();
    }

    /** Any thread; does not block: queues the answer on the main thread (see the class comment). */
    public final void sendResponseApdu(byte[] responseApdu) {
        Message msg = Message.obtain(null, MSG_RESPONSE_APDU);
        msg.getData().putByteArray(KEY_DATA, responseApdu);
        try {
            messenger.send(msg);
        } catch (RemoteException e) {
            Log.e(TAG, "Local messenger has died.");
        }
    }

    public final void notifyUnhandled() {
        try {
            messenger.send(Message.obtain(null, MSG_UNHANDLED));
        } catch (RemoteException e) {
            Log.e(TAG, "Local messenger has died.");
        }
    }

    public abstract byte[] processCommandApdu(byte[] commandApdu, Bundle extras);

    public abstract void onDeactivated(int reason);
}
