package io.sluice.runtime;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code runtime.watch_config}: reloads when the config file's content changes. It watches directories, not
 * the file: editors save by writing a new file and renaming it over the old one, and Kubernetes mounts a
 * ConfigMap as symlinks ({@code config.yaml -> ..data/config.yaml}, {@code ..data -> ..2026_12_04...}) that it
 * swaps by renaming {@code ..data}; a watch on the file itself loses both (traefik#10409). Any event in the
 * file's directory, or in the directory its symlinks resolve to, starts a short quiet period; when it ends the
 * file is hashed and reloaded only when the hash differs from the one in force, so a burst of writes, or a
 * touch that changes nothing, costs at most one reload.
 */
public final class ConfigWatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ConfigWatcher.class);
    /** Long enough to let an editor or kubelet finish its writes and renames. */
    static final long QUIET_MILLIS = 300;

    private final Path file;
    private final ScheduledExecutorService control;
    private final Supplier<String> shaInForce;
    private final Runnable reload;
    private final WatchService watch;
    private final Thread thread;
    private ScheduledFuture<?> pending;
    /** The hash last handed to a reload: a rejected file is not tried again until its content changes. */
    private volatile String lastTried;

    /**
     * @param shaInForce the SHA-256 of the file Sluice runs now
     * @param reload     starts a reload; runs on {@code control}
     */
    public ConfigWatcher(Path file, ScheduledExecutorService control, Supplier<String> shaInForce, Runnable reload)
            throws IOException {
        this.file = file.toAbsolutePath();
        this.control = control;
        this.shaInForce = shaInForce;
        this.reload = reload;
        this.watch = FileSystems.getDefault().newWatchService();
        for (Path dir : directories()) {
            dir.register(watch, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                    StandardWatchEventKinds.ENTRY_DELETE);
        }
        this.thread = new Thread(this::loop, "sluice-config-watch");
        thread.setDaemon(true);
        thread.start();
        log.info("watching {} for changes", this.file);
    }

    private Set<Path> directories() throws IOException {
        Set<Path> dirs = new LinkedHashSet<>();
        dirs.add(file.getParent());
        if (Files.exists(file)) {
            dirs.add(file.toRealPath().getParent());
        }
        return dirs;
    }

    private void loop() {
        try {
            while (true) {
                WatchKey key = watch.take();
                key.pollEvents(); // which entry changed does not matter: the file's hash decides
                key.reset();
                schedule();
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            // closing
        }
    }

    private synchronized void schedule() {
        if (pending != null) {
            pending.cancel(false);
        }
        pending = control.schedule(this::check, QUIET_MILLIS, TimeUnit.MILLISECONDS);
    }

    private void check() {
        String sha;
        try {
            sha = ConfigFile.sha256(Files.readAllBytes(file));
        } catch (IOException e) {
            log.warn("{} changed but cannot be read ({}); keeping the configuration in force", file, e.toString());
            return;
        }
        if (!sha.equals(shaInForce.get()) && !sha.equals(lastTried)) {
            lastTried = sha;
            log.info("{} changed on disk: reloading", file);
            reload.run();
        }
    }

    @Override
    public void close() throws IOException {
        synchronized (this) {
            if (pending != null) {
                pending.cancel(false);
            }
        }
        thread.interrupt();
        watch.close();
    }
}
