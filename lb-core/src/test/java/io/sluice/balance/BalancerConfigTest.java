package io.sluice.balance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.config.Algorithms;
import io.sluice.config.ConfigException;
import io.sluice.config.ConfigLoader;
import io.sluice.config.HashKeyConfig;
import io.sluice.config.SluiceConfig;
import org.junit.jupiter.api.Test;

/** Every algorithm is chosen by its YAML name, and a hash fallback must not need a hash itself. */
class BalancerConfigTest {

    private static String yaml(String clusterKeys) {
        return "listeners:\n  - { name: web, bind: \"127.0.0.1:8080\", cluster: app }\n"
                + "clusters:\n  - name: app\n" + clusterKeys
                + "    servers:\n      - { address: \"127.0.0.1:9001\" }\n      - { address: \"127.0.0.1:9002\", backup: true }\n";
    }

    @Test
    void everyIssueAlgorithmIsRegisteredByName() {
        assertThat(LoadBalancers.names()).contains("round_robin", "weighted_round_robin", "random",
                "least_connections", "power_of_two_choices", "least_response_time", "ring_hash", "maglev");
    }

    @Test
    void hashSettingsParse() throws ConfigException {
        SluiceConfig c = ConfigLoader.parse(yaml("    algorithm: maglev\n    hash_key: header:x-user\n"
                + "    hash_fallback: least_connections\n    maglev_table_size: 5003\n    slow_start: 30s\n"));
        var b = c.clusters().get(0).balancer();
        assertThat(b.algorithm()).isEqualTo("maglev");
        assertThat(b.hashKey()).isEqualTo(new HashKeyConfig(HashKeyConfig.Kind.HEADER, "x-user"));
        assertThat(LoadBalancers.create(b)).isInstanceOf(Maglev.class);
        assertThat(c.clusters().get(0).servers().get(1).backup()).isTrue();
    }

    @Test
    void hashingIsWhatTheProviderDeclaresNotItsName() {
        assertThat(LoadBalancers.names()).filteredOn(LoadBalancers::isHashing)
                .containsExactlyInAnyOrder("ring_hash", "maglev");
        assertThat(new LoadBalancerProvider() {
            @Override
            public String name() {
                return "maglev_clone";
            }

            @Override
            public LoadBalancer create(io.sluice.config.BalancerConfig config) {
                throw new UnsupportedOperationException();
            }
        }.hashing()).as("a provider hashes only when it says so").isFalse();
    }

    @Test
    void theConfigLoaderSeesThisRegistry() {
        Algorithms seen = Algorithms.installed();
        assertThat(seen.names()).containsExactlyElementsOf(LoadBalancers.names());
        assertThat(seen.hashing("maglev")).isTrue();
        assertThat(seen.hashing("least_connections")).isFalse();
    }

    @Test
    void aHashingFallbackIsRejected() {
        assertThatThrownBy(() -> ConfigLoader.parse(yaml("    algorithm: ring_hash\n    hash_fallback: maglev\n")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("hash_fallback");
    }
}
