package io.sluice.runtime;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.spi.ContextAwareBase;
import io.sluice.config.LogFormat;
import io.sluice.config.LogLevel;
import io.sluice.config.RuntimeConfig;
import java.util.Map;
import org.slf4j.LoggerFactory;

/**
 * The process's log setup, made in code rather than a logback.xml so that the config file decides it
 * ({@code runtime.log_format}, {@code runtime.log_level}) at start and on every reload. Until a config is read
 * (and for {@code check}), Logback finds this class as its {@link Configurator} and logs text at info.
 *
 * <p>The level properties of slf4j-simple, which Sluice used before, still work:
 * {@code -Dorg.slf4j.simpleLogger.defaultLogLevel=debug} sets the level where the config sets none
 * ({@link LogLevel#byDefault()}), and {@code -Dorg.slf4j.simpleLogger.log.NAME=LEVEL} sets one logger's.
 */
public final class LogSetup extends ContextAwareBase implements Configurator {
    static final String LOGGER_LEVEL_PREFIX = "org.slf4j.simpleLogger.log.";
    /** What slf4j-simple printed: {@code [thread] LEVEL logger - message}, exceptions below. */
    static final String TEXT_PATTERN = "[%thread] %level %logger - %msg%n";
    private static final String APPENDER = "sluice";

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        install(context, LogFormat.TEXT, LogLevel.byDefault());
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    /** Applies the config's format and level; for start and reload. Cheap when nothing changed. */
    public static void apply(RuntimeConfig runtime) {
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
            install(context, runtime.logFormat(), runtime.logLevel());
        }
    }

    private static synchronized void install(LoggerContext context, LogFormat format, LogLevel level) {
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        if (!(root.getAppender(APPENDER) instanceof ConsoleAppender<ILoggingEvent> current)
                || current.getEncoder().getClass() != encoderClass(format)) {
            ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
            appender.setContext(context);
            appender.setName(APPENDER);
            appender.setTarget("System.err");
            appender.setEncoder(encoder(context, format));
            appender.start();
            // The new appender first, then the old one out: no event finds the logger without one.
            root.detachAndStopAllAppenders();
            root.addAppender(appender);
        }
        root.setLevel(Level.toLevel(level.name()));
        for (Logger logger : context.getLoggerList()) {
            if (logger != root && logger.getLevel() != null) {
                logger.setLevel(null); // inherit again, unless a property below names it
            }
        }
        for (Map.Entry<Object, Object> e : System.getProperties().entrySet()) {
            String key = String.valueOf(e.getKey());
            if (key.startsWith(LOGGER_LEVEL_PREFIX)) {
                context.getLogger(key.substring(LOGGER_LEVEL_PREFIX.length()))
                        .setLevel(Level.toLevel(String.valueOf(e.getValue()), null));
            }
        }
    }

    private static Class<?> encoderClass(LogFormat format) {
        return format == LogFormat.JSON ? JsonLogEncoder.class : PatternLayoutEncoder.class;
    }

    private static Encoder<ILoggingEvent> encoder(LoggerContext context, LogFormat format) {
        if (format == LogFormat.JSON) {
            JsonLogEncoder json = new JsonLogEncoder();
            json.setContext(context);
            json.start();
            return json;
        }
        PatternLayoutEncoder text = new PatternLayoutEncoder();
        text.setContext(context);
        text.setPattern(TEXT_PATTERN);
        text.start();
        return text;
    }
}
