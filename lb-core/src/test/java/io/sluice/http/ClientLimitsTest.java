package io.sluice.http;

import static io.sluice.testing.Proxies.sample;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.sluice.Sluice;
import io.sluice.config.ConfigLoader;
import io.sluice.runtime.ConfigFile;
import io.sluice.runtime.ReloadResult;
import io.sluice.testing.GrpcClients;
import io.sluice.testing.GrpcEcho;
import io.sluice.testing.GrpcTestServer;
import io.sluice.testing.Proxies;
import io.sluice.testing.Resources;
import io.sluice.testing.TestBackend;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code listeners[].limits} on real sockets, in real time, asserting only what timing cannot change: a client
 * over its request rate gets 429 with Retry-After (gRPC: RESOURCE_EXHAUSTED) and never more than the burst plus
 * the rate over the time taken; a client over its connections is closed at accept, others are not; the client is
 * the one the PROXY header names; a tcp listener closes; a reload applies to new connections; every refusal is
 * in {@code sluice_listener_limited_total}.
 */
class ClientLimitsTest {
    @AutoClose
    final Resources resources = new Resources();
    @TempDir
    Path dir;

    private static final String GET = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

    private static String http(String limits, String extra, String server) {
        return """
                runtime: { worker_threads: 2 }
                admin: { bind: "127.0.0.1:0" }
                listeners:
                  - name: web
                    bind: "127.0.0.1:0"
                    protocol: http
                    cluster: app
                    limits: %s
                %s
                clusters:
                  - name: app
                    servers: [ { address: "%s" } ]
                """.formatted(limits, extra, server);
    }

    private HttpBackend backend() throws IOException {
        return resources.keep(new HttpBackend("a", HttpBackend.sayName("a")));
    }

    private static double limited(Sluice s, String listener, String limit) throws Exception {
        double v = sample(Proxies.admin(s, "/metrics").body(),
                "sluice_listener_limited_total{limit=\"" + limit + "\",listener=\"" + listener + "\"}");
        return v;
    }

    @Test
    void requestsOverTheRateGet429WithRetryAfter() throws Exception {
        HttpBackend backend = backend();
        Sluice s = resources.keep(Proxies.start(http(
                "{ requests_per_second_per_ip: 1, burst: 3 }", "", backend.address())));
        int ok = 0;
        int refused = 0;
        long start = System.nanoTime();
        try (RawHttp c = new RawHttp(Proxies.port(s, "web"))) {
            for (int i = 0; i < 20; i++) {
                RawHttp.Response r = c.get("/");
                if (r.status() == 200) {
                    ok++;
                } else {
                    assertThat(r.status()).isEqualTo(429);
                    assertThat(Integer.parseInt(r.header("retry-after"))).isBetween(1, 1);
                    refused++;
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        assertThat(ok).as("burst 3 plus 1 per second over %.1f s", seconds).isLessThanOrEqualTo(3 + (int) Math.ceil(seconds));
        assertThat(refused).isPositive();
        assertThat(backend.requests).hasSize(ok);
        assertThat(limited(s, "web", "requests_per_second_per_ip")).isEqualTo(refused);
        assertThat(limited(s, "web", "connections_per_ip")).isZero();
    }

    @Test
    void grpcCallsOverTheRateGetResourceExhaustedAndHttp2StreamsCount() throws Exception {
        GrpcTestServer server = resources.keep(GrpcTestServer.h2c());
        Sluice s = resources.keep(Proxies.start(GrpcProxyTest.config(GrpcProxyTest.servers(server.address()),
                "    limits: { requests_per_second_per_ip: 1, burst: 2 }", ", protocol: h2c")));
        ManagedChannel ch = GrpcClients.h2c(Proxies.port(s, "web"));
        resources.keep(() -> GrpcClients.close(ch));
        int ok = 0;
        int exhausted = 0;
        long start = System.nanoTime();
        for (int i = 0; i < 10; i++) {
            try {
                ClientCalls.blockingUnaryCall(ch, GrpcEcho.UNARY,
                        CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), "hi");
                ok++;
            } catch (StatusRuntimeException e) {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                exhausted++;
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        assertThat(ok).isLessThanOrEqualTo(2 + (int) Math.ceil(seconds));
        assertThat(exhausted).isPositive();
        assertThat(limited(s, "web", "requests_per_second_per_ip")).isEqualTo(exhausted);
        assertThat(GrpcProxyTest.grpcCount(s, "RESOURCE_EXHAUSTED")).isEqualTo(exhausted);
    }

    @Test
    void connectionsOverTheLimitAreClosedPerAddress() throws Exception {
        HttpBackend backend = backend();
        Sluice s = resources.keep(Proxies.start(http("{ connections_per_ip: 2 }", "", backend.address())));
        int port = Proxies.port(s, "web");
        Socket one = resources.keep(open("127.0.0.1", port));
        Socket two = resources.keep(open("127.0.0.1", port));
        assertThat(get(one)).startsWith("HTTP/1.1 200");
        assertThat(get(two)).startsWith("HTTP/1.1 200");
        try (Socket three = open("127.0.0.1", port)) {
            assertThat(closedAtOnce(three)).isTrue();
        }
        try (Socket elsewhere = open("127.0.0.2", port)) {
            assertThat(get(elsewhere)).as("another address has its own count").startsWith("HTTP/1.1 200");
        }
        one.close();
        // The count is released when Sluice sees the close; until then a new connection may still be refused.
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            try (Socket again = open("127.0.0.1", port)) {
                return get(again).startsWith("HTTP/1.1 200");
            } catch (IOException e) {
                return false;
            }
        });
        assertThat(limited(s, "web", "connections_per_ip")).isGreaterThanOrEqualTo(1);
        two.close();
        await().atMost(Duration.ofSeconds(10)).until(() -> s.listener("web").stats().active() == 0);
    }

    @Test
    void theClientIsTheOneThePROXYHeaderNames() throws Exception {
        HttpBackend backend = backend();
        Sluice s = resources.keep(Proxies.start(http("{ connections_per_ip: 1 }",
                "    proxy_protocol: { accept: true, trusted: [\"127.0.0.1/32\"] }", backend.address())));
        int port = Proxies.port(s, "web");
        Socket first = resources.keep(open("127.0.0.1", port));
        first.getOutputStream().write(("PROXY TCP4 203.0.113.7 127.0.0.1 5555 80\r\n" + GET)
                .getBytes(StandardCharsets.US_ASCII));
        assertThat(readResponse(first)).startsWith("HTTP/1.1 200");
        // The same balancer, another client: let in. The same client again: closed.
        assertThat(Proxies.sendFrom("127.0.0.1", port, "PROXY TCP4 203.0.113.8 127.0.0.1 5555 80\r\n"
                + "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).startsWith("HTTP/1.1 200");
        assertThat(Proxies.sendFrom("127.0.0.1", port, "PROXY TCP4 203.0.113.7 127.0.0.1 5556 80\r\n"
                + "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).isEmpty();
        assertThat(limited(s, "web", "connections_per_ip")).isEqualTo(1);
    }

    /**
     * Thousands of sources (PROXY headers, so no socket per source is needed) each send a request while one
     * client is over its rate: the flood is served, the limited client stays limited (the table keeps the
     * clients being limited and forgets the one-request ones), and nothing grows: the table is fixed in size.
     */
    @Test
    void aFloodOfSpoofedSourcesLeavesTheLimitedClientLimited() throws Exception {
        HttpBackend backend = backend();
        Sluice s = resources.keep(Proxies.start(http("{ requests_per_second_per_ip: 1, burst: 5 }",
                "    proxy_protocol: { accept: true, trusted: [\"127.0.0.1/32\"] }", backend.address())));
        int port = Proxies.port(s, "web");
        Socket limitedClient = resources.keep(open("127.0.0.1", port));
        limitedClient.getOutputStream().write("PROXY TCP4 198.51.100.1 127.0.0.1 5555 80\r\n"
                .getBytes(StandardCharsets.US_ASCII));
        int refusedBefore = 0;
        for (int i = 0; i < 10; i++) {
            limitedClient.getOutputStream().write(GET.getBytes(StandardCharsets.US_ASCII));
            if (readResponse(limitedClient).startsWith("HTTP/1.1 429")) {
                refusedBefore++;
            }
        }
        assertThat(refusedBefore).isPositive();
        int sources = Integer.getInteger("sluice.test.spoofedSources", 200);
        long t0 = System.nanoTime();
        for (int i = 0; i < sources; i++) {
            String ip = "10." + (i >> 16 & 255) + "." + (i >> 8 & 255) + "." + (i & 255);
            String answer = Proxies.sendFrom("127.0.0.1", port, "PROXY TCP4 " + ip + " 127.0.0.1 5555 80\r\n"
                    + "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertThat(answer).as("source %s", ip).startsWith("HTTP/1.1 200");
        }
        System.out.printf("%d spoofed sources in %.1f s%n", sources, (System.nanoTime() - t0) / 1e9);
        limitedClient.getOutputStream().write(GET.getBytes(StandardCharsets.US_ASCII));
        // Unless a second or more went by during the flood, it is still over its rate.
        String after = readResponse(limitedClient);
        assertThat(after).matches("(?s)HTTP/1.1 (429|200).*");
        assertThat(limited(s, "web", "requests_per_second_per_ip")).isGreaterThanOrEqualTo(refusedBefore);
    }

    @Test
    void aTcpListenerClosesConnectionsOverEitherLimit() throws Exception {
        TestBackend echo = resources.keep(TestBackend.start("echo", TestBackend.echo()));
        Sluice s = resources.keep(Proxies.start("""
                runtime: { worker_threads: 2 }
                admin: { bind: "127.0.0.1:0" }
                listeners:
                  - { name: conns, bind: "127.0.0.1:0", cluster: app, limits: { connections_per_ip: 1 } }
                  - { name: rate, bind: "127.0.0.1:0", cluster: app,
                      limits: { requests_per_second_per_ip: 1, burst: 2 } }
                clusters:
                  - name: app
                    servers: [ { address: "%s" } ]
                """.formatted(echo.address())));
        int conns = Proxies.port(s, "conns");
        try (Socket first = open("127.0.0.1", conns)) {
            Proxies.roundTrip(first, "hello");
            try (Socket second = open("127.0.0.1", conns)) {
                assertThat(closedAtOnce(second)).isTrue();
            }
            try (Socket other = open("127.0.0.3", conns)) {
                Proxies.roundTrip(other, "hello");
            }
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> s.listener("conns").stats().active() == 0);
        try (Socket again = open("127.0.0.1", conns)) {
            Proxies.roundTrip(again, "again");
        }
        assertThat(limited(s, "conns", "connections_per_ip")).isEqualTo(1);

        int rate = Proxies.port(s, "rate");
        int served = 0;
        long start = System.nanoTime();
        for (int i = 0; i < 6; i++) {
            try (Socket c = open("127.0.0.1", rate)) {
                if (!closedAtOnce(c)) {
                    served++;
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        assertThat(served).isBetween(1, 2 + (int) Math.ceil(seconds));
        assertThat(limited(s, "rate", "requests_per_second_per_ip")).isEqualTo(6 - served);
    }

    @Test
    void aReloadAppliesNewLimitsToNewConnections() throws Exception {
        HttpBackend backend = backend();
        Path file = dir.resolve("sluice.yaml");
        Files.writeString(file, http("{}", "", backend.address()));
        Sluice s = resources.keep(Sluice.start(ConfigLoader.load(file), new ConfigFile(file), "x"));
        int port = Proxies.port(s, "web");
        Socket before = resources.keep(open("127.0.0.1", port));
        assertThat(get(before)).startsWith("HTTP/1.1 200");

        Files.writeString(file, http("{ connections_per_ip: 1 }", "", backend.address()));
        ReloadResult r = s.reloadAsync().get(30, TimeUnit.SECONDS);
        assertThat(r.applied()).as(r.toString()).isTrue();
        // The connection from before is not counted: the next one is the first under the limit.
        assertThat(get(before)).startsWith("HTTP/1.1 200");
        Socket after = resources.keep(open("127.0.0.1", port));
        assertThat(get(after)).startsWith("HTTP/1.1 200");
        try (Socket over = open("127.0.0.1", port)) {
            assertThat(closedAtOnce(over)).isTrue();
        }
    }

    private static Socket open(String from, int port) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
        s.setSoTimeout(10_000);
        return s;
    }

    private static String get(Socket s) throws IOException {
        s.getOutputStream().write(GET.getBytes(StandardCharsets.US_ASCII));
        return readResponse(s);
    }

    /** One response with a Content-Length body (Sluice's and the test backend's both have one). */
    private static String readResponse(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                return head.toString();
            }
            head.append((char) b);
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(head);
        int length = m.find() ? Integer.parseInt(m.group(1)) : 0;
        return head + new String(in.readNBytes(length), StandardCharsets.UTF_8);
    }

    /** Sluice closed the connection without a byte: the first read ends the stream (or is reset). */
    private static boolean closedAtOnce(Socket s) throws IOException {
        try {
            s.getOutputStream().write("x".getBytes(StandardCharsets.US_ASCII));
        } catch (SocketException e) {
            return true;
        }
        try {
            return s.getInputStream().read() == -1;
        } catch (SocketException e) {
            return true;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        }
    }
}
