package io.sluice.cli;

import io.sluice.config.ConfigError;
import io.sluice.config.ConfigException;
import io.sluice.config.ConfigLoader;
import io.sluice.config.SluiceConfig;
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
        SluiceConfig config = load(Path.of(args[0]), err);
        if (config == null) {
            return Main.CONFIG_ERROR;
        }
        out.println(args[0] + ": ok (" + config.listeners().size() + " listener(s), " + config.clusters().size()
                + " cluster(s))");
        return Main.OK;
    }

    /** Loads a config or prints why not (every error, one per line) and returns null. */
    static SluiceConfig load(Path file, PrintStream err) {
        if (!Files.isRegularFile(file)) {
            err.println(file + ": no such file");
            return null;
        }
        try {
            return ConfigLoader.load(file);
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
