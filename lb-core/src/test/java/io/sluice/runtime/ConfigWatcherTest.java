package io.sluice.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.Sluice;
import io.sluice.config.ConfigLoader;
import io.sluice.testing.Proxies;
import io.sluice.testing.TestBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * runtime.watch_config: an edit in place, an editor's write-and-rename, and a Kubernetes ConfigMap's symlink
 * swap are all seen; a write that changes nothing reloads nothing.
 */
class ConfigWatcherTest {
    @TempDir
    Path dir;

    private static String config(int port, String server) {
        return """
                runtime: { watch_config: true }
                admin: { enabled: false }
                listeners: [ { name: front, bind: "127.0.0.1:%d", cluster: app } ]
                clusters: [ { name: app, servers: [ { address: "%s" } ] } ]
                """.formatted(port, server);
    }

    private static double reloads(Sluice s) {
        String line = s.metrics().scrape().lines().filter(l -> l.startsWith("sluice_config_reloads_total{result=\"applied\"}"))
                .findFirst().orElseThrow();
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
    }

    private static void awaitAnswer(int port, String name) {
        await().atMost(Duration.ofSeconds(15)).until(() -> Proxies.exchange(port).trim().equals(name));
    }

    @Test
    void inPlaceWritesAndRenamesOverTheFileAreReloaded() throws Exception {
        try (TestBackend one = TestBackend.start("one", TestBackend.sayName());
             TestBackend two = TestBackend.start("two", TestBackend.sayName());
             TestBackend three = TestBackend.start("three", TestBackend.sayName())) {
            int port = Proxies.freePort();
            Path file = dir.resolve("sluice.yaml");
            Files.writeString(file, config(port, one.address()));
            try (Sluice s = Sluice.start(ConfigLoader.load(file), new ConfigFile(file),
                    ConfigFile.sha256(Files.readAllBytes(file)))) {
                assertThat(Proxies.exchange(port).trim()).isEqualTo("one");
                Files.writeString(file, config(port, two.address()));
                awaitAnswer(port, "two");

                Path tmp = dir.resolve(".sluice.yaml.swp");
                Files.writeString(tmp, config(port, three.address()));
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                awaitAnswer(port, "three");
                await().atMost(Duration.ofSeconds(10)).until(() -> reloads(s) == 2.0);

                // The same bytes again: an event, but no reload.
                Files.writeString(file, config(port, three.address()));
                Files.writeString(dir.resolve("unrelated.txt"), "x");
                Files.writeString(dir.resolve("sluice.yaml.bak"), config(port, one.address()));
                long stable = System.nanoTime();
                await().pollDelay(Duration.ofMillis(ConfigWatcher.QUIET_MILLIS * 3)).atMost(Duration.ofSeconds(10))
                        .until(() -> System.nanoTime() - stable > ConfigWatcher.QUIET_MILLIS * 3_000_000L);
                assertThat(reloads(s)).isEqualTo(2.0);
                assertThat(Proxies.exchange(port).trim()).isEqualTo("three");
            }
        }
    }

    @Test
    void aKubernetesConfigMapSymlinkSwapIsReloaded() throws Exception {
        try (TestBackend one = TestBackend.start("one", TestBackend.sayName());
             TestBackend two = TestBackend.start("two", TestBackend.sayName())) {
            int port = Proxies.freePort();
            // The kubelet's layout: sluice.yaml -> ..data/sluice.yaml, ..data -> ..<timestamp>/
            Path first = Files.createDirectory(dir.resolve("..2026_12_04_10_00_00.1"));
            Files.writeString(first.resolve("sluice.yaml"), config(port, one.address()));
            Files.createSymbolicLink(dir.resolve("..data"), first.getFileName());
            Path file = dir.resolve("sluice.yaml");
            Files.createSymbolicLink(file, Path.of("..data", "sluice.yaml"));
            try (Sluice s = Sluice.start(ConfigLoader.load(file), new ConfigFile(file),
                    ConfigFile.sha256(Files.readAllBytes(file)))) {
                assertThat(Proxies.exchange(port).trim()).isEqualTo("one");
                Path second = Files.createDirectory(dir.resolve("..2026_12_04_10_05_00.2"));
                Files.writeString(second.resolve("sluice.yaml"), config(port, two.address()));
                Path tmpLink = Files.createSymbolicLink(dir.resolve("..data_tmp"), second.getFileName());
                Files.move(tmpLink, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE,
                        StandardCopyOption.REPLACE_EXISTING);
                awaitAnswer(port, "two");
            }
        }
    }

}
