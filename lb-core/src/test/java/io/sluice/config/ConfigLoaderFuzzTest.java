package io.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Tag;

/**
 * The YAML loader on any bytes: a valid config or a {@link ConfigException}, never another exception. Inputs are
 * bounded (a config is small; a bigger one only costs time), and SnakeYAML's alias and nesting limits keep any
 * input from hanging it. Seeds: {@code ConfigLoaderFuzzTestInputs/yamlLoader}.
 */
@Tag("fuzz")
class ConfigLoaderFuzzTest {
    static final int MAX_INPUT = 4096;

    @FuzzTest(maxDuration = "30s")
    void yamlLoader(byte[] input) {
        if (input.length > MAX_INPUT) {
            return;
        }
        SluiceConfig config;
        try {
            config = ConfigLoader.parse(new String(input, StandardCharsets.UTF_8));
        } catch (ConfigException expected) {
            assertThat(expected.errors()).isNotEmpty();
            return;
        }
        assertThat(config.listeners()).isNotEmpty();
        assertThat(config.clusters()).isNotEmpty();
    }
}
