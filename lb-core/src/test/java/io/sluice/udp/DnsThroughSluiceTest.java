package io.sluice.udp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.testing.Dnsmasq;
import io.sluice.testing.ExternalTool;
import io.sluice.testing.Proxies;
import io.sluice.testing.Resources;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** DNS through a udp listener with the real tools: two dnsmasq servers behind it, dig in front. */
class DnsThroughSluiceTest {
    @AutoClose
    final Resources resources = new Resources();
    @TempDir
    Path dir;
    private ExternalTool dig;
    private Dnsmasq a;
    private Dnsmasq b;

    @BeforeEach
    void servers() throws Exception {
        dig = ExternalTool.require("dig", "bind9-dnsutils");
        // The same name, a different answer from each: the answer says which server it came from.
        a = resources.keep(Dnsmasq.start(dir, "x.test", "10.0.0.1"));
        b = resources.keep(Dnsmasq.start(dir, "x.test", "10.0.0.2"));
    }

    private Sluice sluice(String udp, String cluster) throws Exception {
        return resources.keep(Proxies.start("""
                runtime: { worker_threads: 2 }
                admin: { enabled: false }
                listeners:
                  - name: dns
                    bind: "127.0.0.1:0"
                    protocol: udp
                    cluster: resolvers
                    udp: { %s }
                clusters:
                  - name: resolvers
                    servers: [ { address: "%s" }, { address: "%s" } ]
                    %s
                """.formatted(udp, a.address(), b.address(), cluster)));
    }

    private String ask(Sluice s, String... extra) throws Exception {
        String[] args = new String[6 + extra.length];
        args[0] = "@127.0.0.1";
        args[1] = "-p";
        args[2] = Integer.toString(Proxies.port(s, "dns"));
        args[3] = "x.test";
        args[4] = "+short";
        args[5] = "+tries=1";
        System.arraycopy(extra, 0, args, 6, extra.length);
        ExternalTool.Run run = dig.run("", args);
        assertThat(run.code()).as(run.output()).isZero();
        return run.output().trim();
    }

    private static double flows(Sluice s) {
        return Proxies.sample(s.metrics().scrape(), "sluice_udp_flows_active{listener=\"dns\"}");
    }

    @Test
    void answersComeFromBothServersAndEachFlowEndsWithItsAnswer() throws Exception {
        Sluice s = sluice("responses_per_request: 1", "");
        Set<String> answers = new HashSet<>();
        for (int i = 0; i < 10; i++) {
            answers.add(ask(s));
        }
        assertThat(answers).containsExactlyInAnyOrder("10.0.0.1", "10.0.0.2");
        // responses_per_request: 1: each flow ended with its answer, not after the 30 s idle timeout.
        await().atMost(Duration.ofSeconds(5)).until(() -> flows(s) == 0);
        String scrape = s.metrics().scrape();
        assertThat(Proxies.sample(scrape, "sluice_listener_datagrams_received_total{listener=\"dns\"}")).isEqualTo(10);
        assertThat(Proxies.sample(scrape, "sluice_listener_datagrams_sent_total{listener=\"dns\"}")).isEqualTo(10);
        assertThat(Proxies.sample(scrape, "sluice_listener_connections_total{listener=\"dns\"}")).isEqualTo(10);
    }

    @Test
    void aStoppedServerIsTakenOutByItsDnsCheck() throws Exception {
        Sluice s = sluice("responses_per_request: 1", """
                health_check: { type: dns, query: "x.test", interval: 200ms, timeout: 150ms, rise: 1, fall: 1 }""");
        b.close();
        await().atMost(Duration.ofSeconds(10)).until(() -> !s.cluster("resolvers").server(b.address()).healthy());
        for (int i = 0; i < 6; i++) {
            assertThat(ask(s)).isEqualTo("10.0.0.1");
        }
        assertThat(s.cluster("resolvers").server(a.address()).healthy()).isTrue();
    }

    @Test
    void aFlowEndsAfterItsIdleTimeout() throws Exception {
        // Long enough that dig's exit and the scrape below come well within it on a loaded machine (with 300 ms a
        // pause there let the flow end first); short enough to wait out.
        Sluice s = sluice("idle_timeout: 3s", "");
        assertThat(ask(s)).isIn("10.0.0.1", "10.0.0.2");
        assertThat(flows(s)).as("the answer does not end the flow").isEqualTo(1);
        await().atMost(Duration.ofSeconds(15)).until(() -> flows(s) == 0);
    }

    @Test
    void sourceIpHashingKeepsAClientOnOneServer() throws Exception {
        Sluice s = sluice("responses_per_request: 1", "algorithm: ring_hash\n    hash_key: source_ip");
        Set<String> reached = new HashSet<>();
        for (int client = 2; client <= 21; client++) {
            String from = "127.0.0." + client;
            String first = ask(s, "-b", from);
            for (int again = 0; again < 2; again++) {
                // A new source port each time: a new flow, placed by the address alone.
                assertThat(ask(s, "-b", from)).as("client " + from).isEqualTo(first);
            }
            reached.add(first);
        }
        assertThat(reached).containsExactlyInAnyOrder("10.0.0.1", "10.0.0.2");
    }
}
