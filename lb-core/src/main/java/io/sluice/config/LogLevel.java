package io.sluice.config;

/** The least severe events logged ({@code runtime.log_level}). */
public enum LogLevel {
    TRACE, DEBUG, INFO, WARN, ERROR;

    /** slf4j-simple's property, which set the level before Sluice used Logback; still honoured. */
    public static final String PROPERTY = "org.slf4j.simpleLogger.defaultLogLevel";

    /** The level when the config names none: {@link #PROPERTY} if it names one, else info. */
    public static LogLevel byDefault() {
        String p = System.getProperty(PROPERTY);
        if (p != null) {
            for (LogLevel l : values()) {
                if (l.name().equalsIgnoreCase(p.trim())) {
                    return l;
                }
            }
        }
        return INFO;
    }
}
