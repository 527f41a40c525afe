package io.sluice.testing;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A real HAProxy (Debian's {@code haproxy}) run in the foreground from a config the test writes, killed on close.
 * The config's {@code %PORT%} is replaced with the port it listens on, which is ready when this returns.
 */
public final class Haproxy implements AutoCloseable {
    private final Process process;
    private final int port;
    private final Path log;

    private Haproxy(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /** Starts {@code haproxy -f cfg -db} with {@code config}'s sections after a minimal global/defaults part. */
    public static Haproxy start(Path dir, String mode, String sections) throws Exception {
        ExternalTool haproxy = ExternalTool.require("haproxy", "haproxy");
        int port = Proxies.freePort();
        Path cfg = dir.resolve("haproxy.cfg");
        Files.writeString(cfg, """
                global
                    maxconn 256
                defaults
                    mode %s
                    timeout connect 5s
                    timeout client 30s
                    timeout server 30s
                """.formatted(mode) + sections.replace("%PORT%", Integer.toString(port)));
        Path log = dir.resolve("haproxy.log");
        Process p = new ProcessBuilder(haproxy.path().toString(), "-f", cfg.toString(), "-db")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Haproxy h = new Haproxy(p, port, log);
        try {
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).until(() -> {
                if (!p.isAlive()) {
                    throw new AssertionError("haproxy exited " + p.exitValue() + ": " + Files.readString(log));
                }
                return listening(port);
            });
        } catch (RuntimeException | Error e) {
            h.close();
            throw e;
        }
        return h;
    }

    /**
     * Whether something listens on {@code port}, read from the kernel's socket table where there is one: a
     * probe connection would be counted by HAProxy ({@code fe_conn}) until it has seen it close, and with
     * {@code accept-proxy} that can be after the test's own first request on a busy machine.
     */
    private static boolean listening(int port) throws IOException {
        Path table = Path.of("/proc/net/tcp");
        if (!Files.isReadable(table)) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
                return true;
            } catch (IOException e) {
                return false;
            }
        }
        // "  sl  local_address rem_address   st ...": local 0100007F:1F90, state 0A = LISTEN.
        String local = String.format(":%04X ", port);
        for (Path t : new Path[] {table, Path.of("/proc/net/tcp6")}) {
            if (!Files.isReadable(t)) {
                continue;
            }
            for (String line : Files.readAllLines(t)) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 3 && (f[1] + " ").endsWith(local) && f[3].equals("0A")) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The port of the config's {@code %PORT%} bind. */
    public int port() {
        return port;
    }

    /** What HAProxy printed so far, for failure messages. */
    public String output() throws IOException {
        return Files.readString(log);
    }

    @Override
    public void close() throws Exception {
        process.destroy();
        if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}
