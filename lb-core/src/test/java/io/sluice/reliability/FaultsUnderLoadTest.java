package io.sluice.reliability;

import static io.sluice.testing.Proxies.sample;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.testing.BackendProcess;
import io.sluice.testing.Proxies;
import io.sluice.testing.Resources;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/**
 * Faults under a steady load, with servers in processes of their own that are killed with SIGKILL (no FIN, the
 * kernel resets their connections) and restarted: what a client sees, and what the metrics account for.
 */
class FaultsUnderLoadTest {
    /** Each request takes the servers this long, so that about two are in flight on each when one is killed. */
    private static final int WORK_MILLIS = 100;

    @AutoClose
    final Resources resources = new Resources();

    /** Steady keep-alive GETs from {@code clients} threads; outcome "200 NAME" or what went wrong. */
    private static LoadLoop load(int port, int clients) {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        return new LoadLoop(clients, id -> {
            int[] n = {0};
            return () -> {
                HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/c" + id + "/"
                        + n[0]++)).timeout(Duration.ofSeconds(20)).build();
                HttpResponse<String> r = client.send(req, HttpResponse.BodyHandlers.ofString());
                return r.statusCode() + " " + r.body();
            };
        });
    }

    private static long ok(LoadLoop load) {
        return load.outcomes.entrySet().stream().filter(e -> e.getKey().startsWith("200 "))
                .mapToLong(e -> e.getValue().sum()).sum();
    }

    private static double metric(Sluice s, String sample) throws Exception {
        double v = sample(Proxies.admin(s, "/metrics").body(), sample);
        return Double.isNaN(v) ? 0 : v;
    }

    /**
     * Three servers under load; one is killed with SIGKILL and restarted on its port. No idempotent request
     * fails (requests in flight on its connections are sent again elsewhere, connects refused go to the
     * others), it leaves and rejoins rotation by its health check, and the metrics account for every request.
     */
    @Test
    void aKilledServerCostsNoIdempotentRequest() throws Exception {
        List<BackendProcess> servers = new ArrayList<>();
        List<Integer> ports = new ArrayList<>();
        for (String name : List.of("a", "b", "c")) {
            int port = Proxies.freePort();
            ports.add(port);
            servers.add(resources.keep(BackendProcess.start("http", name, port, WORK_MILLIS)));
        }
        Sluice s = resources.keep(Proxies.start("""
                runtime: { worker_threads: 2 }
                admin: { bind: "127.0.0.1:0" }
                listeners:
                  - { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app }
                clusters:
                  - name: app
                    algorithm: round_robin
                    health_check: { type: http, path: /health, interval: 500ms, timeout: 500ms, fall: 2, rise: 2 }
                    servers: [ { address: "%s" }, { address: "%s" }, { address: "%s" } ]
                """.formatted(servers.get(0).address(), servers.get(1).address(), servers.get(2).address())));
        String b = servers.get(1).address();
        String upB = "sluice_server_up{cluster=\"app\",server=\"" + b + "\"}";
        long received;
        LoadLoop load = load(Proxies.port(s, "web"), 6);
        try (load) {
            await().atMost(Duration.ofSeconds(30)).until(() -> load.count("200 b") >= 30 && ok(load) >= 150);
            String activeB = "sluice_server_requests_active{cluster=\"app\",server=\"" + b + "\"}";
            await().atMost(Duration.ofSeconds(10)).until(() -> metric(s, activeB) > 0);
            servers.get(1).kill();
            long atKill = ok(load);
            await().atMost(Duration.ofSeconds(20)).until(() -> metric(s, upB) == 0);
            await().atMost(Duration.ofSeconds(30)).until(() -> ok(load) >= atKill + 150);

            BackendProcess again = resources.keep(BackendProcess.start("http", "b", ports.get(1), WORK_MILLIS));
            await().atMost(Duration.ofSeconds(20)).until(() -> metric(s, upB) == 1);
            await().atMost(Duration.ofSeconds(30)).until(() -> again.received.get() >= 30);
            servers.add(again);
        }
        assertThat(load.except("200")).as("failed requests").isEmpty();
        long ok = ok(load);
        String m = Proxies.admin(s, "/metrics").body();
        double answered = sample(m, "sluice_http_requests_total{cluster=\"app\",code=\"2xx\",listener=\"web\","
                + "protocol=\"http1\",route=\"default\"}");
        double retries = sample(m, "sluice_http_retries_total{listener=\"web\"}");
        received = servers.stream().mapToLong(p -> p.received.get()).sum();
        // What b received and never answered was in flight when it was killed: each was sent again.
        long unanswered = servers.get(1).received.get() + servers.get(3).received.get() - load.count("200 b");
        System.out.printf("b: received %d, answered %d; http errors: %s%n", servers.get(1).received.get()
                + servers.get(3).received.get(), load.count("200 b"), m.lines()
                .filter(l -> l.startsWith("sluice_http_errors_total") && !l.endsWith(" 0.0")).toList());
        assertThat((long) retries).as("requests in flight on b when it was killed, sent again")
                .isGreaterThanOrEqualTo(unanswered);
        // Every request answered once; what servers received beyond that died with b and was sent again.
        assertThat(answered).as("2xx counted by Sluice").isEqualTo(ok);
        assertThat(received).as("requests servers received").isBetween(ok, ok + (long) retries);
        assertThat(sample(m, "sluice_server_state_changes_total{cluster=\"app\",server=\"" + b + "\",to=\"down\"}"))
                .isEqualTo(1);
        assertThat(sample(m, "sluice_server_state_changes_total{cluster=\"app\",server=\"" + b + "\",to=\"up\"}"))
                .isEqualTo(1);
        System.out.printf("kill -9 under load: %d requests, %d failed, %.0f retries, servers received %d%n",
                ok, load.except("200").values().stream().mapToLong(Long::longValue).sum(), retries, received);
    }

    /**
     * A TCP listener: connections in flight to a killed server end (the client sees its connection close);
     * new connections go to the servers left.
     */
    @Test
    void aKilledServerEndsItsTcpConnectionsAndNewOnesGoElsewhere() throws Exception {
        BackendProcess a = resources.keep(BackendProcess.start("echo", "a", Proxies.freePort()));
        BackendProcess b = resources.keep(BackendProcess.start("echo", "b", Proxies.freePort()));
        Sluice s = resources.keep(Proxies.start("""
                runtime: { worker_threads: 2 }
                admin: { bind: "127.0.0.1:0" }
                listeners:
                  - { name: db, bind: "127.0.0.1:0", protocol: tcp, cluster: app }
                clusters:
                  - name: app
                    algorithm: round_robin
                    health_check: { type: tcp, interval: 500ms, timeout: 500ms, fall: 2, rise: 2 }
                    servers: [ { address: "%s" }, { address: "%s" } ]
                """.formatted(a.address(), b.address())));
        int port = Proxies.port(s, "db");
        List<Socket> open = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            Socket c = resources.keep(new Socket(InetAddress.getLoopbackAddress(), port));
            c.setSoTimeout(20_000);
            Proxies.roundTrip(c, "hello " + i);
            open.add(c);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> a.received.get() == 5 && b.received.get() == 5);
        b.kill();
        // The five relayed to b end (EOF or reset); the five on a still echo.
        int ended = 0;
        int alive = 0;
        for (Socket c : open) {
            if (endsOrEchoes(c)) {
                alive++;
            } else {
                ended++;
            }
        }
        assertThat(ended).isEqualTo(5);
        assertThat(alive).isEqualTo(5);
        String upB = "sluice_server_up{cluster=\"app\",server=\"" + b.address() + "\"}";
        await().atMost(Duration.ofSeconds(20)).until(() -> metric(s, upB) == 0);
        int before = a.received.get();
        for (int i = 0; i < 10; i++) {
            try (Socket c = new Socket(InetAddress.getLoopbackAddress(), port)) {
                c.setSoTimeout(20_000);
                Proxies.roundTrip(c, "after " + i);
            }
        }
        // The backend reports each request on its stdout, read by another thread: it may trail the echo.
        await().atMost(Duration.ofSeconds(10)).until(() -> a.received.get() >= before + 10);
        assertThat(a.received.get()).isEqualTo(before + 10);
    }

    /** True when the connection still echoes; false when it ended (EOF or reset) instead. */
    private static boolean endsOrEchoes(Socket c) throws IOException {
        byte[] probe = "ping\n".getBytes(StandardCharsets.US_ASCII);
        try {
            OutputStream out = c.getOutputStream();
            out.write(probe);
            out.flush();
            InputStream in = c.getInputStream();
            byte[] got = new byte[probe.length];
            int n = 0;
            while (n < got.length) {
                int r = in.read(got, n, got.length - n);
                if (r < 0) {
                    return false;
                }
                n += r;
            }
            return true;
        } catch (java.net.SocketException reset) {
            return false;
        }
    }
}
