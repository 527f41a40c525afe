package io.sluice.cli;

import io.sluice.config.ConfigError;
import io.sluice.config.ConfigException;
import io.sluice.runtime.ConfigFile;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/** {@code check CONFIG.yaml}: validates and reports every error, touching no socket. */
final class CheckCommand {
    private final PrintStream out;
    private final PrintStream err;

    CheckCommand(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    int run(String[] args) {
        if (args.length != 1) {
            err.println("usage: sluice check CONFIG.yaml");
            return Main.USAGE;
        }
        ConfigFile.Loaded loaded = load(Path.of(args[0]), err);
        if (loaded == null) {
            return Main.CONFIG_ERROR;
        }
        out.println(args[0] + ": ok (" + loaded.config().listeners().size() + " listener(s), "
                + loaded.config().clusters().size() + " cluster(s))"
                + (loaded.warnings().isEmpty() ? "" : ", " + loaded.warnings().size() + " warning(s)"));
        for (ConfigError warning : loaded.warnings()) {
            out.println("  warning: " + warning);
        }
        return Main.OK;
    }

    /**
     * Loads a config and checks the files it names (certificates), or prints why not (every error, one per line)
     * and returns null.
     */
    static ConfigFile.Loaded load(Path file, PrintStream err) {
        if (!Files.isRegularFile(file)) {
            err.println(file + ": no such file");
            return null;
        }
        try {
            return new ConfigFile(file).load();
        } catch (ConfigException e) {
            err.println(file + ": " + e.errors().size() + " error(s)");
            for (ConfigError error : e.errors()) {
                err.println("  " + error);
            }
            return null;
        } catch (IOException e) {
            err.println(file + ": cannot read: " + e.getMessage());
            return null;
        }
    }
}
