package io.sluice.testing;

import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.sluice.health.DnsQuery;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A real dnsmasq (Debian's {@code dnsmasq-base}) on a loopback UDP port, answering {@code name} with {@code address}
 * and nothing else (no upstream, no hosts file), killed on close. Ready when {@link #start} returns.
 */
public final class Dnsmasq implements AutoCloseable {
    private final Process process;
    private final int port;
    private final Path log;

    private Dnsmasq(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    public static Dnsmasq start(Path dir, String name, String address) throws Exception {
        // dnsmasq binds the port for TCP too: another process can hold it there, so a clash is tried again.
        for (int attempt = 1; ; attempt++) {
            try {
                return startOnce(dir, name, address);
            } catch (AddressInUse e) {
                if (attempt == 5) {
                    throw e;
                }
            }
        }
    }

    private static final class AddressInUse extends AssertionError {
        AddressInUse(String message) {
            super(message);
        }
    }

    private static Dnsmasq startOnce(Path dir, String name, String address) throws Exception {
        ExternalTool dnsmasq = ExternalTool.require("dnsmasq", "dnsmasq-base");
        int port = freeUdpPort();
        Path log = Files.createTempFile(dir, "dnsmasq-", ".log");
        Process p = new ProcessBuilder(dnsmasq.path().toString(), "--no-daemon", "--port=" + port,
                "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
                "--conf-file=/dev/null", "--pid-file=", "--log-facility=-",
                "--host-record=" + name + "," + address)
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Dnsmasq d = new Dnsmasq(p, port, log);
        try {
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).until(() -> {
                if (!p.isAlive()) {
                    String out = Files.readString(log);
                    String why = "dnsmasq exited " + p.exitValue() + ": " + out;
                    throw out.contains("Address already in use") ? new AddressInUse(why) : new AssertionError(why);
                }
                return answers(port, name);
            });
        } catch (RuntimeException | Error e) {
            d.close();
            throw e;
        }
        return d;
    }

    /** Whether a query for {@code name} on {@code port} gets an answer within 200 ms. */
    private static boolean answers(int port, String name) throws IOException {
        ByteBuf q = Unpooled.buffer();
        new DnsQuery(name, 1, Set.of(0)).write(7, q);
        byte[] bytes = new byte[q.readableBytes()];
        q.readBytes(bytes);
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            s.setSoTimeout(200);
            s.send(new DatagramPacket(bytes, bytes.length, new InetSocketAddress(InetAddress.getLoopbackAddress(), port)));
            s.receive(new DatagramPacket(new byte[512], 512));
            return true;
        } catch (SocketTimeoutException | java.net.PortUnreachableException e) {
            return false;
        }
    }

    /** A port free on loopback right now for UDP and for TCP (dnsmasq takes both; so may a test). */
    public static int freeUdpPort() throws IOException {
        while (true) {
            try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress());
                 java.net.ServerSocket t = new java.net.ServerSocket()) {
                t.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), s.getLocalPort()));
                return s.getLocalPort();
            } catch (java.net.BindException e) {
                // taken for TCP: another one
            }
        }
    }

    public int port() {
        return port;
    }

    public String address() {
        return "127.0.0.1:" + port;
    }

    public String output() throws IOException {
        return Files.readString(log);
    }

    @Override
    public void close() throws Exception {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}
