package io.sluice.cli;

import io.netty.channel.EventLoopGroup;
import io.sluice.Sluice;
import io.sluice.config.ConfigException;
import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
import io.sluice.config.TransportKind;
import io.sluice.net.Transport;
import io.sluice.runtime.ConfigFile;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code demo}: three embedded HTTP backends on loopback, a TCP listener balancing across them with weighted
 * round robin, an HTTP listener with a route, and the admin endpoint with the status page, built from a YAML
 * file written for the reader to edit and reload.
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
        int httpPort = 8081;
        int adminPort = 9901;
        for (int i = 0; i < args.length; i++) {
            try {
                switch (args[i]) {
                    case "--port" -> port = Integer.parseInt(args[++i]);
                    case "--http-port" -> httpPort = Integer.parseInt(args[++i]);
                    case "--admin-port" -> adminPort = Integer.parseInt(args[++i]);
                    default -> {
                        err.println(USAGE);
                        return Main.USAGE;
                    }
                }
            } catch (RuntimeException e) {
                err.println(USAGE);
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
            List<Integer> ports = backends.stream().map(DemoBackend::port).toList();
            String yaml = demoConfig(port, httpPort, adminPort, ports);
            Path file = Files.createTempFile("sluice-demo-", ".yaml");
            file.toFile().deleteOnExit();
            Files.writeString(file, yaml);
            SluiceConfig config = ConfigLoader.parse(yaml);
            sluice = Sluice.start(config, new ConfigFile(file), ConfigFile.sha256(yaml.getBytes(StandardCharsets.UTF_8)));
            String admin = "http://127.0.0.1:" + adminPort;
            out.println("Demo config (" + file + "):\n");
            out.println(yaml.indent(2));
            out.println("Sluice is balancing http://127.0.0.1:" + port + "/ (TCP) across 3 backends (weights 1, 1, 2):\n");
            out.println("  for i in 1 2 3 4 5 6 7 8; do curl -s http://127.0.0.1:" + port + "/; done");
            out.println("\nand http://127.0.0.1:" + httpPort + "/ (HTTP): /api/... goes to cluster api, the rest to demo:\n");
            out.println("  curl -s http://127.0.0.1:" + httpPort + "/api/users; curl -s http://127.0.0.1:" + httpPort + "/");
            out.println("\nThe status page: " + admin + "/   Metrics: " + admin + "/metrics\n");
            out.println("Change a weight while it runs (the page shows it within a second):\n");
            out.println("  curl -s -X PUT -d '{\"weight\": 5}' " + admin + "/admin/clusters/demo/servers/127.0.0.1:"
                    + ports.get(0) + "/weight");
            out.println("\nor edit " + file + " and reload it:\n");
            out.println("  java -jar lb-core/target/sluice.jar reload --admin " + admin);
            out.println("\nCtrl-C (or SIGTERM) stops the demo.");
            out.flush();
            Sluice running = sluice;
            Shutdown.awaitSignal(running::reloadAsync);
            return Main.OK;
        } catch (ConfigException e) {
            err.println("demo config invalid (a bug): " + e.getMessage());
            return Main.CONFIG_ERROR;
        } catch (Exception e) {
            err.println("sluice demo: could not start: " + RunCommand.describe(e)
                    + " (is port " + port + ", " + httpPort + " or " + adminPort
                    + " in use? try --port / --http-port / --admin-port)");
            return Main.STARTUP_FAILED;
        } finally {
            if (sluice != null) {
                sluice.shutdown(java.time.Duration.ofSeconds(2));
            }
            backends.forEach(DemoBackend::stop);
            backendGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    static String demoConfig(int port, int httpPort, int adminPort, List<Integer> backendPorts) {
        StringBuilder sb = new StringBuilder();
        sb.append("admin: { bind: \"127.0.0.1:").append(adminPort).append("\" }\n");
        sb.append("listeners:\n");
        sb.append("  - { name: demo, bind: \"127.0.0.1:").append(port).append("\", protocol: tcp, cluster: demo }\n");
        sb.append("  - name: web\n");
        sb.append("    bind: \"127.0.0.1:").append(httpPort).append("\"\n");
        sb.append("    protocol: http\n");
        sb.append("    cluster: demo\n");
        sb.append("    routes:\n");
        sb.append("      - { name: api, match: { path_prefix: /api/ }, cluster: api }\n");
        sb.append("clusters:\n");
        sb.append("  - name: demo\n");
        sb.append("    algorithm: weighted_round_robin\n");
        sb.append("    health_check: { type: http, path: /, interval: 2s, timeout: 1s }\n");
        sb.append("    servers:\n");
        for (int i = 0; i < backendPorts.size(); i++) {
            sb.append("      - { address: \"127.0.0.1:").append(backendPorts.get(i)).append("\", weight: ")
                    .append(i == backendPorts.size() - 1 ? 2 : 1).append(" }\n");
        }
        sb.append("  - name: api\n");
        sb.append("    algorithm: least_connections\n");
        sb.append("    servers:\n");
        for (int i = 0; i < 2 && i < backendPorts.size(); i++) {
            sb.append("      - { address: \"127.0.0.1:").append(backendPorts.get(i)).append("\" }\n");
        }
        return sb.toString();
    }

    private static final String USAGE = "usage: sluice demo [--port N] [--http-port N] [--admin-port N]";
}
