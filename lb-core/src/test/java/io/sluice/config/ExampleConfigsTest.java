package io.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.cli.Main;
import io.sluice.testing.ExampleCertificates;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every file in configs/ passes {@code sluice check}: the examples ops copy from must stay valid. Certificate
 * files they name are made by the test (no key is checked in), see {@link ExampleCertificates}.
 */
class ExampleConfigsTest {

    static List<Path> examples() throws IOException {
        Path dir = Path.of("..", "configs");
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> list = files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
            assertThat(list).isNotEmpty();
            return list;
        }
    }

    @ParameterizedTest
    @MethodSource("examples")
    void checkAcceptsEveryExample(Path example, @TempDir Path dir) throws Exception {
        Path file = ExampleCertificates.materialize(example, dir);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.execute(new String[] {"check", file.toString()},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(code).as(err.toString(StandardCharsets.UTF_8)).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains(": ok (");
    }
}
