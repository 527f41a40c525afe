package io.sluice.testing;

import com.sun.net.httpserver.HttpServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A backend in a process of its own, so that a test can {@code kill -9} it as an operator's bad day does: no
 * FIN, no goodbye, its sockets reset by the kernel. {@code http} mode answers every request with its name
 * ({@code /health} too, but only other paths are reported); {@code echo} mode echoes TCP bytes. It reports
 * {@code READY} once listening, and one {@code REQ} line per request before answering it, on standard output,
 * so what it received is known even after it was killed.
 */
public final class BackendProcess implements AutoCloseable {
    private final Process process;
    private final String name;
    private final int port;
    /** Requests it reported receiving (not /health), counted as its lines arrive. */
    public final AtomicInteger received = new AtomicInteger();

    private BackendProcess(Process process, String name, int port) {
        this.process = process;
        this.name = name;
        this.port = port;
    }

    /** Starts a backend process in {@code mode} (http | echo) on {@code port} and waits until it listens. */
    public static BackendProcess start(String mode, String name, int port) throws IOException, InterruptedException {
        return start(mode, name, port, 0);
    }

    /** As {@link #start(String, String, int)}, answering each HTTP request only after {@code delayMillis}. */
    public static BackendProcess start(String mode, String name, int port, int delayMillis)
            throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xmx64m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"), BackendProcess.class.getName(), mode, name,
                Integer.toString(port), Integer.toString(delayMillis))
                .redirectErrorStream(true).start();
        BackendProcess b = new BackendProcess(p, name, port);
        java.util.concurrent.CountDownLatch ready = new java.util.concurrent.CountDownLatch(1);
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    if (line.equals("READY")) {
                        ready.countDown();
                    } else if (line.equals("REQ")) {
                        b.received.incrementAndGet();
                    } else {
                        System.err.println("[backend " + name + "] " + line);
                    }
                }
            } catch (IOException ended) {
                // the process is gone
            }
        }, "backend-" + name + "-out");
        reader.setDaemon(true);
        reader.start();
        if (!ready.await(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("backend process " + name + " did not start on port " + port);
        }
        return b;
    }

    public String name() {
        return name;
    }

    public String address() {
        return "127.0.0.1:" + port;
    }

    /** SIGKILL, and waits until the process is gone. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        kill();
    }

    public static void main(String[] args) throws IOException {
        String mode = args[0];
        String name = args[1];
        int port = Integer.parseInt(args[2]);
        long delay = Long.parseLong(args[3]);
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true,
                StandardCharsets.UTF_8);
        if (mode.equals("echo")) {
            echo(port, out);
            return;
        }
        serveName(name, port, delay, () -> {
            synchronized (out) {
                out.println("REQ");
            }
        });
        out.println("READY");
        try {
            new java.util.concurrent.CountDownLatch(1).await(); // until killed
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * An HTTP server, started, that answers every request with {@code name} after {@code delayMillis}, telling
     * {@code onRequest} of each one but {@code /health} first. Usable in the test's own process too.
     */
    public static HttpServer serveName(String name, int port, long delayMillis, Runnable onRequest)
            throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 512);
        server.setExecutor(Executors.newFixedThreadPool(16, r -> {
            Thread t = new Thread(r, "backend-" + name);
            t.setDaemon(true);
            return t;
        }));
        byte[] body = name.getBytes(StandardCharsets.UTF_8);
        server.createContext("/", exchange -> {
            try (exchange) {
                exchange.getRequestBody().readAllBytes();
                if (!exchange.getRequestURI().getPath().equals("/health")) {
                    onRequest.run();
                    pause(delayMillis);
                }
                exchange.getResponseHeaders().add("Content-Type", "text/plain");
                exchange.sendResponseHeaders(200, body.length);
                exchange.getResponseBody().write(body);
            }
        });
        server.start();
        return server;
    }

    /** Stands for the server's work, so that a kill finds requests in flight. */
    private static void pause(long millis) {
        if (millis > 0) {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void echo(int port, PrintStream out) throws IOException {
        ServerSocket listening = new ServerSocket(port, 512, InetAddress.getLoopbackAddress());
        out.println("READY");
        while (true) {
            Socket s = listening.accept();
            Thread t = new Thread(() -> {
                try (s; InputStream in = s.getInputStream(); OutputStream o = s.getOutputStream()) {
                    // A connection counts once it carries a byte: a health check's connect-and-close does not.
                    int first = in.read();
                    if (first < 0) {
                        return;
                    }
                    synchronized (out) {
                        out.println("REQ");
                    }
                    o.write(first);
                    in.transferTo(o);
                } catch (IOException ended) {
                    // the client went away
                }
            });
            t.setDaemon(true);
            t.start();
        }
    }
}
