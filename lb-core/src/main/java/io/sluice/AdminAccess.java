package io.sluice;

import io.sluice.admin.AdminControl;
import io.sluice.cluster.Cluster;
import io.sluice.config.SluiceConfig;
import io.sluice.net.Listener;
import io.sluice.runtime.Registry;
import io.sluice.runtime.ReloadResult;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/** What the admin endpoint may see and do in a running Sluice. */
final class AdminAccess implements AdminControl {
    private final Sluice sluice;
    private final Registry registry;
    private final Executor control;

    AdminAccess(Sluice sluice, Registry registry, Executor control) {
        this.sluice = sluice;
        this.registry = registry;
        this.control = control;
    }

    @Override
    public SluiceConfig config() {
        return sluice.config();
    }

    @Override
    public List<Listener> listeners() {
        return registry.listeners();
    }

    @Override
    public List<Cluster> clusters() {
        return registry.clusters();
    }

    @Override
    public CompletableFuture<ReloadResult> reload() {
        return sluice.reloadAsync();
    }

    @Override
    public <T> CompletableFuture<T> onControlThread(Supplier<T> change) {
        return CompletableFuture.supplyAsync(change, control);
    }
}
