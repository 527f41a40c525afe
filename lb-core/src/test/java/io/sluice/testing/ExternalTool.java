package io.sluice.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * A command-line tool a test drives as a real client (curl, h2load...): found on the PATH, or a failure on CI
 * ({@code CI=true}) and a skip elsewhere, naming the Debian package that brings it.
 */
public final class ExternalTool {
    private ExternalTool() {
    }

    /** The tool's path; fails or aborts the test when it is missing. */
    public static Path require(String binary, String debianPackage) {
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(File.pathSeparator)) {
                Path p = Path.of(dir, binary);
                if (Files.isExecutable(p)) {
                    return p;
                }
            }
        }
        String missing = "this test drives '" + binary + "': install Debian's '" + debianPackage
                + "' package (apt-get install -y " + debianPackage + ")";
        if ("true".equals(System.getenv("CI"))) {
            fail(missing);
        }
        Assumptions.abort(missing);
        return null;
    }
}
