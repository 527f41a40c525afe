package io.sluice.http;

import static io.sluice.testing.Proxies.sample;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.config.ConfigException;
import io.sluice.config.ConfigLoader;
import io.sluice.testing.Proxies;
import io.sluice.testing.Resources;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PING keepalive on HTTP/2 server connections ({@code pool.ping_interval}, {@code pool.ping_timeout}). */
class Http2KeepaliveTest {
    @AutoClose
    final Resources resources = new Resources();
    @TempDir
    Path dir;

    private static final String CONFIG = """
            runtime: { worker_threads: 1 }
            admin: { bind: "127.0.0.1:0" }
            listeners:
              - { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app }
            clusters:
              - name: app
                protocol: h2c
                pool: { %s }
                servers: [ { address: "%s" } ]
            """;

    private Sluice start(String target, String pool) throws Exception {
        return resources.keep(Proxies.start(CONFIG.formatted(pool, target)));
    }

    private static HttpResponse<String> get(int port, String path) throws Exception {
        HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        return c.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static double pingTimeouts(Sluice s) throws Exception {
        return sample(Proxies.admin(s, "/metrics").body(),
                "sluice_upstream_http2_ping_timeouts_total{cluster=\"app\"}");
    }

    /** A server that answers keeps its one connection: PINGs go out while it is quiet, and are answered. */
    @Test
    void aQuietConnectionIsPingedAndKept() throws Exception {
        H2TestServer server = resources.keep(new H2TestServer("a", null));
        Relay relay = resources.keep(new Relay(server.address()));
        Sluice s = start(relay.address(), "ping_interval: 50ms, ping_timeout: 2s");
        int port = Proxies.port(s, "web");
        assertThat(get(port, "/one").body()).isEqualTo("a GET /one");
        Relay.Link link = relay.links.get(0);
        long afterRequest = link.toServer.get();
        // A PING frame is 17 bytes; several of them, each answered, while no request is made.
        await().atMost(Duration.ofSeconds(10)).until(() -> link.toServer.get() - afterRequest >= 5 * 17);
        assertThat(get(port, "/two").body()).isEqualTo("a GET /two");
        assertThat(server.connections.get()).isEqualTo(1);
        assertThat(relay.links).hasSize(1);
        assertThat(pingTimeouts(s)).isZero();
    }

    /** A connection whose server went silent (no FIN: a dead host, a dropped path) is closed, then replaced. */
    @Test
    void anUnansweredPingClosesTheConnection() throws Exception {
        H2TestServer server = resources.keep(new H2TestServer("a", null));
        Relay relay = resources.keep(new Relay(server.address()));
        Sluice s = start(relay.address(), "ping_interval: 100ms, ping_timeout: 300ms");
        int port = Proxies.port(s, "web");
        assertThat(get(port, "/one").body()).isEqualTo("a GET /one");
        relay.freeze(true);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(pingTimeouts(s)).isEqualTo(1));
        relay.freeze(false); // the relay sees Sluice's close once it lets the held PING go
        await().atMost(Duration.ofSeconds(5)).until(() -> relay.links.get(0).closedBySluice);
        assertThat(get(port, "/two").body()).isEqualTo("a GET /two");
        assertThat(relay.links).hasSize(2);
    }

    /** A reload that turns ping_interval on starts keepalive on the connection already open, not only on new ones. */
    @Test
    void aReloadThatTurnsPingOnStartsItOnOpenConnections() throws Exception {
        H2TestServer server = resources.keep(new H2TestServer("a", null));
        Relay relay = resources.keep(new Relay(server.address()));
        Path file = dir.resolve("sluice.yaml");
        Sluice s = resources.keep(
                Proxies.startFromFile(file, CONFIG.formatted("max_idle_time: 5m", relay.address())));
        int port = Proxies.port(s, "web");
        assertThat(get(port, "/one").body()).isEqualTo("a GET /one");
        Relay.Link link = relay.links.get(0);

        Proxies.reload(s, file, CONFIG.formatted("max_idle_time: 5m, ping_interval: 50ms, ping_timeout: 2s",
                relay.address()));
        long afterReload = link.toServer.get();
        // Several PINGs (17 bytes each) on the connection opened before the reload, while no request is made.
        await().atMost(Duration.ofSeconds(10)).until(() -> link.toServer.get() - afterReload >= 5 * 17);
        assertThat(get(port, "/two").body()).isEqualTo("a GET /two");
        assertThat(relay.links).hasSize(1);
    }

    @Test
    void pingIsRefusedOnHttp11Clusters() {
        ConfigException e = org.assertj.core.api.Assertions.catchThrowableOfType(ConfigException.class,
                () -> ConfigLoader.parse("""
                        listeners:
                          - { name: web, bind: "127.0.0.1:0", protocol: http, cluster: a }
                        clusters:
                          - name: a
                            pool: { ping_interval: 10s }
                            servers: [ { address: "127.0.0.1:1" } ]
                        """));
        assertThat(e.errors()).anySatisfy(m -> assertThat(m.toString())
                .contains("clusters[0].pool.ping_interval (line 5").contains("h2"));
    }

    /**
     * A TCP relay that can go silent both ways without closing anything, as a dead host or a dropped path does;
     * it records how many bytes each link carried and whether Sluice closed its side.
     */
    static final class Relay implements AutoCloseable {
        final List<Link> links = new CopyOnWriteArrayList<>();
        private final ServerSocket listening;
        private final String target;
        private volatile boolean frozen;
        private final Object gate = new Object();

        static final class Link {
            final AtomicLong toServer = new AtomicLong();
            volatile boolean closedBySluice;
            final List<Socket> sockets = new CopyOnWriteArrayList<>();
        }

        Relay(String target) throws IOException {
            this.target = target;
            this.listening = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Thread t = new Thread(this::accept, "relay-accept");
            t.setDaemon(true);
            t.start();
        }

        String address() {
            return "127.0.0.1:" + listening.getLocalPort();
        }

        void freeze(boolean on) {
            synchronized (gate) {
                frozen = on;
                gate.notifyAll();
            }
        }

        private void accept() {
            try {
                while (true) {
                    Socket client = listening.accept();
                    int colon = target.lastIndexOf(':');
                    Socket server = new Socket(target.substring(0, colon), Integer.parseInt(target.substring(colon + 1)));
                    Link link = new Link();
                    link.sockets.add(client);
                    link.sockets.add(server);
                    links.add(link);
                    pump(client, server, link, true);
                    pump(server, client, link, false);
                }
            } catch (IOException closed) {
                // the relay is closed
            }
        }

        private void pump(Socket from, Socket to, Link link, boolean fromSluice) {
            Thread t = new Thread(() -> {
                byte[] buf = new byte[16 * 1024];
                try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                    int n;
                    while ((n = in.read(buf)) >= 0) {
                        synchronized (gate) {
                            while (frozen) {
                                gate.wait(); // held, never delivered, as on a dead path
                            }
                        }
                        if (fromSluice) {
                            link.toServer.addAndGet(n);
                        }
                        out.write(buf, 0, n);
                        out.flush();
                    }
                    if (fromSluice) {
                        link.closedBySluice = true;
                    }
                } catch (IOException | InterruptedException e) {
                    if (fromSluice) {
                        link.closedBySluice = true; // a reset from Sluice's side
                    }
                } finally {
                    closeQuietly(from);
                    closeQuietly(to);
                }
            }, "relay-pump");
            t.setDaemon(true);
            t.start();
        }

        private static void closeQuietly(Socket s) {
            try {
                s.close();
            } catch (IOException ignored) {
                // already closed
            }
        }

        @Override
        public void close() throws IOException {
            freeze(false);
            listening.close();
            for (Link l : links) {
                l.sockets.forEach(Relay::closeQuietly);
            }
        }
    }
}
