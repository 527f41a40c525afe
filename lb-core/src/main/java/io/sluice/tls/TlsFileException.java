package io.sluice.tls;

import io.sluice.config.ConfigError;
import java.util.List;
import java.util.stream.Collectors;

/** The files a listener's {@code tls} names cannot be used; every problem, each naming its config key and line. */
public final class TlsFileException extends RuntimeException {
    private final List<ConfigError> errors;

    public TlsFileException(List<ConfigError> errors) {
        super(errors.stream().map(ConfigError::toString).collect(Collectors.joining("; ")), null, false, false);
        this.errors = List.copyOf(errors);
    }

    public List<ConfigError> errors() {
        return errors;
    }
}
