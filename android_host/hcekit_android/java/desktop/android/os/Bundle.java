package android.os;

/** Desktop stand-in: the shim never reads the extras. */
public final class Bundle {}
