package android.os;

/** Desktop stand-in: marker only (Intent extras). */
public interface Parcelable {}
