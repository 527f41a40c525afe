package io.sluice.runtime;

import io.sluice.config.ConfigError;
import java.util.List;

/**
 * What a reload did: applied (with the changes made and the settings that wait for a restart) or rejected
 * (with every error; nothing changed).
 */
public record ReloadResult(boolean applied, List<String> changes, List<String> needsRestart,
                           List<ConfigError> errors) {

    public ReloadResult {
        changes = List.copyOf(changes);
        needsRestart = List.copyOf(needsRestart);
        errors = List.copyOf(errors);
    }

    public static ReloadResult rejected(List<ConfigError> errors) {
        return new ReloadResult(false, List.of(), List.of(), errors);
    }

    public String result() {
        return applied ? "applied" : "rejected";
    }
}
