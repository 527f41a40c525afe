package io.sluice.config;

/** How the process's own log lines look ({@code runtime.log_format}); the access log has its own format. */
public enum LogFormat {
    /** One line of text per event: {@code [thread] LEVEL logger - message}, as slf4j-simple printed. */
    TEXT,
    /** One JSON object per line: timestamp, level, threadName, loggerName, message, throwable. */
    JSON
}
