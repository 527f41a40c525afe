package io.sluice.udp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.config.ConfigLoader;
import io.sluice.runtime.ConfigFile;
import io.sluice.runtime.ReloadResult;
import io.sluice.testing.Dnsmasq;
import io.sluice.testing.Proxies;
import io.sluice.testing.Resources;
import io.sluice.testing.TestBackend;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** udp listeners and their servers across reloads, like the other listeners. */
class UdpReloadTest {
    @AutoClose
    final Resources resources = new Resources();
    @TempDir
    Path dir;

    private static String config(int port, String udpListener, String... servers) {
        StringBuilder list = new StringBuilder();
        for (String s : servers) {
            list.append(list.isEmpty() ? "" : ", ").append("{ address: \"").append(s).append("\" }");
        }
        return """
                admin: { enabled: false }
                listeners:
                  - { name: tcp, bind: "127.0.0.1:%d", cluster: app }
                %s
                clusters:
                  - name: app
                    servers: [ %s ]
                """.formatted(port, udpListener, list);
    }

    private static String udpListener(int port, String udp) {
        return "  - { name: dns, bind: \"127.0.0.1:%d\", protocol: udp, cluster: app, udp: { %s } }"
                .formatted(port, udp);
    }

    private static ReloadResult reload(Sluice s, Path file, String yaml) throws Exception {
        Files.writeString(file, yaml);
        ReloadResult r = s.reloadAsync().get(30, TimeUnit.SECONDS);
        assertThat(r.applied()).as(r.toString()).isTrue();
        return r;
    }

    private static String ask(DatagramSocket c, int port, String text) throws IOException {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        c.send(new DatagramPacket(b, b.length, new InetSocketAddress(InetAddress.getLoopbackAddress(), port)));
        DatagramPacket p = new DatagramPacket(new byte[200], 200);
        c.receive(p);
        return new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8);
    }

    @Test
    void aUdpListenerComesAndGoesAndItsFlowsFollowTheServers() throws Exception {
        UdpEcho a = resources.keep(new UdpEcho("a", 1));
        UdpEcho b = resources.keep(new UdpEcho("b", 1));
        TestBackend tcpBackend = resources.keep(TestBackend.start("t", TestBackend.echo()));
        // A TCP and a UDP listener on the same port number.
        int port = Dnsmasq.freeUdpPort();
        Path file = dir.resolve("sluice.yaml");
        Files.writeString(file, config(port, "", tcpBackend.address()));
        Sluice s = Sluice.start(ConfigLoader.load(file), new ConfigFile(file), "start");
        resources.keep(s);

        reload(s, file, config(port, udpListener(port, "idle_timeout: 30s"), a.address()));
        DatagramSocket c = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        resources.keep(c::close);
        c.setSoTimeout(5000);
        assertThat(ask(c, port, "1")).isEqualTo("a:1");
        assertThat(s.listener("dns").config().udp().idleTimeout()).isEqualTo(Duration.ofSeconds(30));

        // The flow's server leaves the cluster: its next datagram opens a flow to the server that is left.
        reload(s, file, config(port, udpListener(port, "idle_timeout: 20s"), b.address()));
        assertThat(s.listener("dns").config().udp().idleTimeout()).isEqualTo(Duration.ofSeconds(20));
        assertThat(ask(c, port, "2")).isEqualTo("b:2");
        await().atMost(Duration.ofSeconds(5)).until(() -> ((UdpListener) s.listener("dns")).udpStats().flows() == 1);

        UdpListener gone = (UdpListener) s.listener("dns");
        reload(s, file, config(port, "", tcpBackend.address()));
        assertThat(s.registry().listener("dns")).isNull();
        await().atMost(Duration.ofSeconds(5)).until(() -> gone.udpStats().flows() == 0 && gone.stats().active() == 0);
        assertThat(s.metrics().scrape()).doesNotContain("sluice_udp_flows_active{listener=\"dns\"}");
        assertThat(Proxies.exchange(port)).isNotNull();
    }

    @Test
    void limitsTurnedOnByAReloadApplyToNewFlowsAndOpenOnesCarryOn() throws Exception {
        UdpEcho a = resources.keep(new UdpEcho("a", 1));
        TestBackend tcpBackend = resources.keep(TestBackend.start("t", TestBackend.echo()));
        int port = Dnsmasq.freeUdpPort();
        Path file = dir.resolve("sluice.yaml");
        Files.writeString(file, config(port, udpListener(port, "idle_timeout: 30s"), a.address()));
        Sluice s = Sluice.start(ConfigLoader.load(file), new ConfigFile(file), "start");
        resources.keep(s);
        DatagramSocket one = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        DatagramSocket two = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        resources.keep(one::close);
        resources.keep(two::close);
        one.setSoTimeout(5000);
        two.setSoTimeout(300);
        assertThat(ask(one, port, "1")).isEqualTo("a:1");

        // One flow per client address from now on: the flow already open was never counted and carries on; a
        // new one is counted and fills the limit, so a third port of the same address is refused.
        String limited = "  - { name: dns, bind: \"127.0.0.1:%d\", protocol: udp, cluster: app, udp: { idle_timeout: 30s },"
                .formatted(port) + " limits: { connections_per_ip: 1 } }";
        reload(s, file, config(port, limited, a.address()));
        assertThat(s.listener("dns").config().limits().connectionsPerIp()).isEqualTo(1);
        assertThat(ask(one, port, "1b")).isEqualTo("a:1b");
        DatagramSocket three = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        resources.keep(three::close);
        three.setSoTimeout(300);
        assertThat(ask(two, port, "2")).isEqualTo("a:2");
        byte[] b = "3".getBytes(StandardCharsets.UTF_8);
        three.send(new DatagramPacket(b, b.length, new InetSocketAddress(InetAddress.getLoopbackAddress(), port)));
        await().atMost(Duration.ofSeconds(5)).until(() -> ((UdpListener) s.listener("dns")).udpStats()
                .drops(UdpStats.Drop.LIMITED) == 1);

        // Off again: the next port gets its flow.
        reload(s, file, config(port, udpListener(port, "idle_timeout: 30s"), a.address()));
        three.setSoTimeout(5000);
        assertThat(ask(three, port, "3b")).isEqualTo("a:3b");
    }

    @Test
    void aLargerMaxDatagramSizeReachesASocketThatAlreadyRead() throws Exception {
        UdpEcho a = resources.keep(new UdpEcho("a", 1));
        TestBackend tcpBackend = resources.keep(TestBackend.start("t", TestBackend.echo()));
        int port = Dnsmasq.freeUdpPort();
        Path file = dir.resolve("sluice.yaml");
        Files.writeString(file, config(port, udpListener(port, "max_datagram_size: 4096"), a.address()));
        Sluice s = Sluice.start(ConfigLoader.load(file), new ConfigFile(file), "start");
        resources.keep(s);
        DatagramSocket c = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        resources.keep(c::close);
        c.setSoTimeout(5000);
        // The listener's socket reads once with 4096-byte buffers: Netty keeps that size for the socket's life.
        assertThat(ask(c, port, "1")).isEqualTo("a:1");

        reload(s, file, config(port, udpListener(port, "max_datagram_size: 9000"), a.address()));
        String big = "x".repeat(6000);
        byte[] b = big.getBytes(StandardCharsets.UTF_8);
        c.send(new DatagramPacket(b, b.length, new InetSocketAddress(InetAddress.getLoopbackAddress(), port)));
        DatagramPacket p = new DatagramPacket(new byte[10_000], 10_000);
        c.receive(p);
        assertThat(new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8)).isEqualTo("a:" + big);
    }
}
