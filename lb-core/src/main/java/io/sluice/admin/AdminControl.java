package io.sluice.admin;

import io.sluice.cluster.Cluster;
import io.sluice.config.SluiceConfig;
import io.sluice.net.Listener;
import io.sluice.runtime.ReloadResult;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/** What the admin endpoint may see and do in the running process. */
public interface AdminControl {
    /** The configuration in force. */
    SluiceConfig config();

    List<Listener> listeners();

    List<Cluster> clusters();

    /** Reads the config file again and applies it, on the control thread. */
    CompletableFuture<ReloadResult> reload();

    /**
     * Runs an operator's change on the control thread (picker rebuilds can be large: never on the admin's
     * event loop), one at a time with reloads.
     */
    <T> CompletableFuture<T> onControlThread(Supplier<T> change);
}
