package io.sluice.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A command-line client the tests run for real (curl, openssl). Missing, it fails the test on CI ({@code CI=true})
 * and skips it elsewhere, naming the Debian package that provides it.
 */
public final class ExternalTool {
    private final Path binary;

    private ExternalTool(Path binary) {
        this.binary = binary;
    }

    /** The tool on the PATH, or a failure (CI) or skip (elsewhere) that says how to install it. */
    public static ExternalTool require(String name, String debianPackage) {
        Optional<Path> found = Stream.of(System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator))
                .filter(d -> !d.isEmpty()).map(d -> Path.of(d, name)).filter(Files::isExecutable).findFirst();
        if (found.isEmpty()) {
            missing("this test runs " + name + ": install Debian's '" + debianPackage + "' package (apt-get "
                    + "install -y " + debianPackage + ")");
        }
        return new ExternalTool(found.get());
    }

    /** Something the test needs from outside is not there: a failure on CI ({@code CI=true}), a skip elsewhere. */
    public static void missing(String what) {
        if ("true".equals(System.getenv("CI"))) {
            fail(what);
        }
        Assumptions.abort(what);
    }

    /** Where the tool is, for tests that drive the process themselves. */
    public Path path() {
        return binary;
    }

    /** What one run printed (stdout and stderr together) and its exit code. */
    public record Run(int code, String output) {
    }

    /** Runs with the given arguments and standard input, for at most 30 seconds. */
    public Run run(String stdin, String... args) throws IOException, InterruptedException {
        return run(Duration.ofSeconds(30), stdin, args);
    }

    /**
     * Runs with the given arguments and standard input for at most {@code limit}, then fails the test. The output
     * goes to a file, so a tool that hangs with its output open cannot hold the test past the limit.
     */
    public Run run(Duration limit, String stdin, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(binary.toString());
        command.addAll(List.of(args));
        Path output = Files.createTempFile("tool-", ".out");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(output.toFile()).start();
            try {
                p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
                p.getOutputStream().close();
            } catch (IOException e) {
                // the tool may exit before reading its input
            }
            if (!p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                fail(binary + " did not finish in " + limit + ": " + String.join(" ", args) + "\n"
                        + new String(Files.readAllBytes(output), StandardCharsets.UTF_8));
            }
            return new Run(p.exitValue(), new String(Files.readAllBytes(output), StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(output);
        }
    }
}
