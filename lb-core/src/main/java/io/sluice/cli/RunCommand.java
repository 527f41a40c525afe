package io.sluice.cli;

import io.sluice.Sluice;
import io.sluice.config.SluiceConfig;
import java.io.PrintStream;
import java.nio.file.Path;

/** {@code run CONFIG.yaml}: serves until SIGTERM or SIGINT, then drains. */
final class RunCommand {
    private final PrintStream out;
    private final PrintStream err;

    RunCommand(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    int run(String[] args) {
        if (args.length != 1) {
            err.println("usage: sluice run CONFIG.yaml");
            return Main.USAGE;
        }
        SluiceConfig config = CheckCommand.load(Path.of(args[0]), err);
        if (config == null) {
            return Main.CONFIG_ERROR;
        }
        Sluice sluice;
        try {
            sluice = Sluice.start(config);
        } catch (Exception e) {
            err.println("sluice: could not start: " + describe(e));
            return Main.STARTUP_FAILED;
        }
        Shutdown.awaitSignal();
        sluice.shutdown(config.runtime().drainTimeout());
        return Main.OK;
    }

    static String describe(Throwable e) {
        String msg = e.getMessage();
        return e.getClass().getSimpleName() + (msg != null ? ": " + msg : "");
    }
}
