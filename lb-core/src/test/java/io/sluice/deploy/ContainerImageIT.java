package io.sluice.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.testing.ExternalTool;
import io.sluice.testing.Proxies;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Dockerfile built and its image run, as the README's Docker section tells users to: the shaded jar that
 * {@code package} wrote goes into the image (hence an integration test, run by failsafe after {@code package}),
 * the image checks its default config and runs as uid 10001, and a container with a mounted config and token serves,
 * reloads on SIGHUP and on {@code POST /admin/reload} with the token, and drains and exits 0 on {@code stop}.
 * Driven with Podman, whose command line is Docker's. The base image must be present: {@code .ci/containers} pulls
 * it, or builds a Debian stand-in where no registry answers (see there).
 *
 * <p>The containers use the host's network (or none) rather than published ports: publishing adds NAT rules, and
 * with NAT the kernel tracks every connection on the machine, loopback included. A load comparison run after an
 * earlier version of this test filled the connection-tracking table (262,144 entries) and ran ten times slower.
 * Publishing ports is the engine's work, not the image's.
 */
class ContainerImageIT {
    private static final String BASE = "docker.io/library/eclipse-temurin:17-jre";
    private static final String IMAGE = "localhost/sluice-it:" + UUID.randomUUID().toString().substring(0, 8);
    private static final Duration COMMAND_LIMIT = Duration.ofMinutes(3);
    private static final String TOKEN = "it-token-" + UUID.randomUUID();

    private static ExternalTool podman;
    private final List<String> containers = new ArrayList<>();

    @BeforeAll
    static void buildImage() throws Exception {
        podman = ExternalTool.require("podman", "podman");
        if (podman.run(COMMAND_LIMIT, "", "image", "exists", BASE).code() != 0) {
            ExternalTool.missing("the Dockerfile's base image " + BASE + " is not in Podman's store: run "
                    + ".ci/containers as root (it pulls the image, or builds a stand-in where no registry answers)");
        }
        assertThat(DeployFiles.path("lb-core/target/sluice.jar")).as("the jar `package` wrote").isRegularFile();
        ok(podman.run(COMMAND_LIMIT, "", "build", "-q", "--network", "none", "-t", IMAGE,
                DeployFiles.ROOT.toString()));
    }

    @AfterEach
    void removeContainers() throws Exception {
        for (String c : containers) {
            podman.run(COMMAND_LIMIT, "", "rm", "-f", c);
        }
    }

    @AfterAll
    static void removeImage() throws Exception {
        if (podman != null) {
            podman.run(COMMAND_LIMIT, "", "rmi", "-f", IMAGE);
        }
    }

    @Test
    void theImageChecksItsDefaultConfigAndRunsAsUid10001() throws Exception {
        ExternalTool.Run check = ok(podman.run(COMMAND_LIMIT, "", "run", "--rm", "--network", "none", IMAGE, "check",
                "/etc/sluice/sluice.yaml"));
        assertThat(check.output()).contains("/etc/sluice/sluice.yaml: ok (1 listener(s), 1 cluster(s))");

        ExternalTool.Run id = ok(podman.run(COMMAND_LIMIT, "", "run", "--rm", "--network", "none", "--entrypoint", "id",
                IMAGE));
        assertThat(id.output().strip()).startsWith("uid=10001(sluice) gid=10001(sluice)");
    }

    @Test
    void aMountedConfigServesReloadsAndDrainsOnStop(@TempDir Path dir) throws Exception {
        int frontPort = Proxies.freePort();
        int secondPort = Proxies.freePort();
        int adminPort = Proxies.freePort();
        // The TCP listener's one server is Sluice's own admin endpoint: a client goes through the listener and a
        // connect from the container, and gets the admin's answer.
        Path config = dir.resolve("sluice.yaml");
        String front = """
                admin: { bind: "127.0.0.1:%d", token_file: /etc/sluice/token }
                runtime: { drain_timeout: 20s }
                listeners:
                  - { name: front, bind: "127.0.0.1:%d", cluster: self }
                clusters:
                  - name: self
                    servers:
                      - { address: "127.0.0.1:%d" }
                """.formatted(adminPort, frontPort, adminPort);
        Files.writeString(config, front);
        Files.writeString(dir.resolve("token"), TOKEN + "\n");
        // The container runs as uid 10001: the mounted files must be readable by others.
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-r--r--"));
        Files.setPosixFilePermissions(dir.resolve("token"), PosixFilePermissions.fromString("rw-r--r--"));

        String name = "sluice-it-" + UUID.randomUUID().toString().substring(0, 8);
        containers.add(name);
        ok(podman.run(COMMAND_LIMIT, "", "run", "-d", "--name", name, "--network", "host",
                "-v", dir + ":/etc/sluice:ro", IMAGE));

        await().atMost(Duration.ofSeconds(90)).ignoreExceptions()
                .until(() -> get(adminPort, "/ready", null).statusCode() == 200);
        Answer through = get(frontPort, "/healthz", null);
        assertThat(through.statusCode()).isEqualTo(200);
        assertThat(through.body().strip()).isEqualTo("ok");
        assertThat(logs(name)).contains("transport ");

        // SIGHUP, as `docker kill -s HUP`: the file now has a second listener.
        Files.writeString(config, front.replace("cluster: self }\n",
                "cluster: self }\n  - { name: second, bind: \"127.0.0.1:" + secondPort + "\", cluster: self }\n"));
        ok(podman.run(COMMAND_LIMIT, "", "kill", "-s", "HUP", name));
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                .until(() -> get(secondPort, "/healthz", null).statusCode() == 200);
        assertThat(get(adminPort, "/metrics", null).body())
                .contains("sluice_config_reloads_total{result=\"applied\"} 1.0");

        // A write from outside needs the mounted token.
        assertThat(post(adminPort, "/admin/reload", null).statusCode()).isEqualTo(401);
        assertThat(post(adminPort, "/admin/reload", TOKEN).statusCode()).isEqualTo(200);
        assertThat(get(adminPort, "/metrics", null).body())
                .contains("sluice_config_reloads_total{result=\"applied\"} 2.0");

        // `docker stop` sends SIGTERM: the drain ends at once with no connection open, and the process exits 0.
        ok(podman.run(COMMAND_LIMIT, "", "stop", "-t", "40", name));
        ExternalTool.Run exit = ok(podman.run(COMMAND_LIMIT, "", "inspect", "--format", "{{.State.ExitCode}}", name));
        String log = logs(name);
        assertThat(exit.output().strip()).as("exit code; log:\n%s", log).isEqualTo("0");
        assertThat(log).contains("SIGTERM received: draining").contains("sluice stopped");
    }

    private String logs(String container) throws Exception {
        return ok(podman.run(COMMAND_LIMIT, "", "logs", container)).output();
    }

    /** One request on a connection of its own that the server closes: none is left open to hold up the drain. */
    private static Answer get(int port, String path, String token) throws IOException {
        return exchange(port, "GET", path, token);
    }

    private static Answer post(int port, String path, String token) throws IOException {
        return exchange(port, "POST", path, token);
    }

    private static Answer exchange(int port, String method, String path, String token) throws IOException {
        try (Socket s = Proxies.connect(port)) {
            String head = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                    + (token == null ? "" : "Authorization: Bearer " + token + "\r\n")
                    + ("POST".equals(method) ? "Content-Length: 0\r\n" : "") + "\r\n";
            s.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
            String response = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int headEnd = response.indexOf("\r\n\r\n");
            assertThat(headEnd).as("a whole response head: %s", response).isPositive();
            return new Answer(Integer.parseInt(response.split(" ", 3)[1]), response.substring(headEnd + 4));
        }
    }

    private record Answer(int statusCode, String body) {
    }

    private static ExternalTool.Run ok(ExternalTool.Run run) {
        assertThat(run.code()).as("podman answered:\n%s", run.output()).isZero();
        return run;
    }
}
