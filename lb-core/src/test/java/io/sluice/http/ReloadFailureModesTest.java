package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.Sluice;
import io.sluice.config.ConfigLoader;
import io.sluice.runtime.ConfigFile;
import io.sluice.runtime.ReloadResult;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import io.sluice.testing.Proxies;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What other proxies' reloads are known to get wrong, each checked against Sluice's. */
class ReloadFailureModesTest {
    @TempDir
    Path dir;

    private static String config(int web, int other, String cluster, String a, String b, boolean withOther) {
        return """
                admin: { enabled: false }
                listeners:
                  - { name: web, bind: "127.0.0.1:%d", protocol: http, cluster: %s }
                %s
                clusters:
                  - { name: one, servers: [ { address: "%s" } ] }
                  - { name: two, servers: [ { address: "%s" } ] }
                """.formatted(web, cluster, withOther
                ? "  - { name: other, bind: \"127.0.0.1:%d\", protocol: http, cluster: one }".formatted(other) : "",
                a, b);
    }

    /**
     * nginx PR #437: a reload used to reset idle keep-alive connections. Here the listener keeps its socket and
     * its connections: an idle keep-alive client goes on with its next request, routed by the new settings.
     * A removed listener closes its idle keep-alive connections with a FIN, not a reset.
     */
    @Test
    void idleKeepAliveConnectionsGoOnAfterAReloadAndARemovedListenerClosesThemCleanly() throws Exception {
        try (HttpBackend a = new HttpBackend("a", HttpBackend.sayName("a"));
             HttpBackend b = new HttpBackend("b", HttpBackend.sayName("b"))) {
            int web = Proxies.freePort();
            int other = Proxies.freePort();
            Path file = dir.resolve("sluice.yaml");
            Files.writeString(file, config(web, other, "one", a.address(), b.address(), true));
            try (Sluice s = Sluice.start(ConfigLoader.load(file), new ConfigFile(file), "x");
                 RawHttp kept = new RawHttp(web);
                 RawHttp removed = new RawHttp(other)) {
                assertThat(body(kept.get("/"))).startsWith("a ");
                assertThat(body(removed.get("/"))).startsWith("a ");

                Files.writeString(file, config(web, other, "two", a.address(), b.address(), false));
                ReloadResult r = s.reloadAsync().get(30, TimeUnit.SECONDS);
                assertThat(r.applied()).as(r.toString()).isTrue();
                assertThat(r.changes()).contains("listener other removed; its connections drain");

                assertThat(body(kept.get("/"))).as("the idle keep-alive connection carries on, on the new route")
                        .startsWith("b ");
                int end;
                try {
                    end = removed.in().read();
                } catch (SocketException e) {
                    throw new AssertionError("a removed listener's idle connection was reset: " + e);
                }
                assertThat(end).as("closed with a FIN").isEqualTo(-1);
            }
        }
    }

    private static String body(RawHttp.Response r) {
        assertThat(r.status()).isEqualTo(200);
        return new String(r.body(), StandardCharsets.UTF_8);
    }

}
