package io.sluice.cli;

import io.netty.channel.EventLoopGroup;
import io.sluice.Sluice;
import io.sluice.config.ConfigException;
import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import io.sluice.config.TransportKind;
import io.sluice.net.Transport;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code demo}: three embedded HTTP backends on loopback, a TCP listener balancing across them with weighted
 * round robin, and the admin endpoint, built from a YAML config printed for the reader.
 */
final class DemoCommand {
    private final PrintStream out;
    private final PrintStream err;

    DemoCommand(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    int run(String[] args) {
        int port = 8080;
        int adminPort = 9901;
        for (int i = 0; i < args.length; i++) {
            try {
                switch (args[i]) {
                    case "--port" -> port = Integer.parseInt(args[++i]);
                    case "--admin-port" -> adminPort = Integer.parseInt(args[++i]);
                    default -> {
                        err.println("usage: sluice demo [--port N] [--admin-port N]");
                        return Main.USAGE;
                    }
                }
            } catch (RuntimeException e) {
                err.println("usage: sluice demo [--port N] [--admin-port N]");
                return Main.USAGE;
            }
        }
        Transport transport = Transport.select(TransportKind.AUTO);
        EventLoopGroup backendGroup = transport.newGroup(1, "demo-backend");
        List<DemoBackend> backends = new ArrayList<>();
        Sluice sluice = null;
        try {
            for (String name : List.of("backend-1", "backend-2", "backend-3")) {
                DemoBackend b = new DemoBackend(name);
                b.start(backendGroup, transport);
                backends.add(b);
            }
            String yaml = demoConfig(port, adminPort, backends.stream().map(DemoBackend::port).toList());
            SluiceConfig config = ConfigLoader.parse(yaml);
            sluice = Sluice.start(config);
            out.println("Demo config:\n");
            out.println(yaml.indent(2));
            out.println("Sluice is balancing http://127.0.0.1:" + port + "/ across 3 backends (weights 1, 1, 2):\n");
            out.println("  for i in 1 2 3 4 5 6 7 8; do curl -s http://127.0.0.1:" + port + "/; done");
            out.println("  curl -s http://127.0.0.1:" + adminPort + "/metrics | grep '^sluice_server_connections_total'");
            out.println("  curl -s http://127.0.0.1:" + adminPort + "/ready");
            out.println("\nCtrl-C (or SIGTERM) stops the demo.");
            out.flush();
            Shutdown.awaitSignal(() -> { });
            return Main.OK;
        } catch (ConfigException e) {
            err.println("demo config invalid (a bug): " + e.getMessage());
            return Main.CONFIG_ERROR;
        } catch (Exception e) {
            err.println("sluice demo: could not start: " + RunCommand.describe(e)
                    + " (is port " + port + " or " + adminPort + " in use? try --port / --admin-port)");
            return Main.STARTUP_FAILED;
        } finally {
            if (sluice != null) {
                sluice.shutdown(java.time.Duration.ofSeconds(2));
            }
            backends.forEach(DemoBackend::stop);
            backendGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    static String demoConfig(int port, int adminPort, List<Integer> backendPorts) {
        StringBuilder sb = new StringBuilder();
        sb.append("admin: { bind: \"127.0.0.1:").append(adminPort).append("\" }\n");
        sb.append("listeners:\n");
        sb.append("  - { name: demo, bind: \"127.0.0.1:").append(port).append("\", protocol: tcp, cluster: demo }\n");
        sb.append("clusters:\n");
        sb.append("  - name: demo\n");
        sb.append("    algorithm: weighted_round_robin\n");
        sb.append("    servers:\n");
        for (int i = 0; i < backendPorts.size(); i++) {
            sb.append("      - { address: \"127.0.0.1:").append(backendPorts.get(i)).append("\", weight: ")
                    .append(i == backendPorts.size() - 1 ? 2 : 1).append(" }\n");
        }
        return sb.toString();
    }
}
