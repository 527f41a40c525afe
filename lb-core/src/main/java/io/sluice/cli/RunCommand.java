package io.sluice.cli;

import io.sluice.Sluice;
import io.sluice.config.SluiceConfig;
import java.io.PrintStream;
import io.sluice.runtime.ConfigFile;
import io.sluice.runtime.LogSetup;
import java.nio.file.Path;
import org.slf4j.LoggerFactory;

/** {@code run CONFIG.yaml}: serves until SIGTERM or SIGINT, then drains; SIGHUP reloads the file. */
final class RunCommand {
    private final PrintStream out;
    private final PrintStream err;
    private final boolean ownsProcess;

    RunCommand(PrintStream out, PrintStream err, boolean ownsProcess) {
        this.out = out;
        this.err = err;
        this.ownsProcess = ownsProcess;
    }

    int run(String[] args) {
        if (args.length != 1) {
            err.println("usage: sluice run CONFIG.yaml");
            return Main.USAGE;
        }
        Path path = Path.of(args[0]);
        ConfigFile.Loaded loaded = CheckCommand.load(path, err);
        if (loaded == null) {
            return Main.CONFIG_ERROR;
        }
        SluiceConfig config = loaded.config();
        if (ownsProcess) {
            LogSetup.apply(config.runtime()); // from the first line on, in the config's format
            // Before Sluice.start: the socket family is fixed when Netty's classes load.
            LoggerFactory.getLogger(RunCommand.class).info(SocketFamily.apply(config, System.getProperties()));
            LoggerFactory.getLogger(RunCommand.class).info(LeakDetection.apply(System.getProperties()));
        }
        Shutdown.Signals signals = Shutdown.install();
        Sluice sluice;
        try {
            sluice = Sluice.start(config, new ConfigFile(path), loaded.sha256());
        } catch (Exception e) {
            err.println("sluice: could not start: " + describe(e));
            return Main.STARTUP_FAILED;
        }
        Sluice running = sluice;
        // The reload logs its own outcome; a SIGHUP has nobody to answer.
        signals.reloadWith(running::reloadAsync);
        signals.await();
        sluice.shutdown(sluice.config().runtime().drainTimeout());
        return Main.OK;
    }

    static String describe(Throwable e) {
        String msg = e.getMessage();
        return e.getClass().getSimpleName() + (msg != null ? ": " + msg : "");
    }
}
