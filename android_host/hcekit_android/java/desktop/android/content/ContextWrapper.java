package android.content;

/** Desktop stand-in. */
public class ContextWrapper extends Context {}
