package io.sluice.runtime;

import io.sluice.metrics.MeterGroup;
import io.sluice.net.Listener;

/** A bound listener and its meters: they go away together, so a removed listener leaves no stale series. */
record LiveListener(Listener listener, MeterGroup meters) implements AutoCloseable {

    /** Stops accepting, closes what is still open, releases the listener's files and its meters. */
    @Override
    public void close() {
        listener.stopAccepting();
        listener.closeConnections();
        listener.close();
        meters.close();
    }
}
