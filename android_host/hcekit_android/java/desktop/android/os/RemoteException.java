package android.os;

/** Desktop stand-in (Android: extends AndroidException). */
public class RemoteException extends Exception {
    private static final long serialVersionUID = 1L;

    public RemoteException() {}

    public RemoteException(String message) {
        super(message);
    }
}
