package io.sluice.metrics;

import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.core.instrument.util.TimeUtils;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A request-path latency histogram (a Prometheus histogram in seconds with a {@code _max} gauge, one series per
 * value of one label), recorded by {@link LoopTimer}s and collected straight into the Prometheus registry behind
 * Micrometer's. It replaces a Micrometer {@code Timer} built with {@code publishPercentileHistogram()} and the
 * given expected range, and exposes what that timer did: the same bucket bounds (Micrometer's, computed by
 * Micrometer), names, help text, counts, sum, and a maximum over the same rotating window (the registry's step
 * as expiry, Micrometer's default ring of three). Only the recording is different: see {@link LoopTimer}.
 */
final class LoopTimers implements MultiCollector {
    private final String name;
    private final String maxName;
    private final String help;
    private final String label;
    private final Clock clock;
    /** Bucket bounds in nanoseconds, floored: a whole number of nanoseconds is under a bound iff under its floor. */
    private final long[] boundsNanos;
    /** The same bounds in seconds, as Micrometer exposes them, then +Inf. */
    private final double[] boundsSeconds;
    /** By a value's bit length: the first bucket whose bound is at least the smallest value of that length. */
    private final int[] firstForBits = new int[65];
    private final long rotateMillis;
    private final int ringLength;
    private final List<LoopTimer> series = new CopyOnWriteArrayList<>();

    /** {@code name} as Prometheus spells it, without unit: e.g. {@code sluice_http_request_duration}. */
    LoopTimers(String name, String help, String label, Duration min, Duration max, Clock clock) {
        this.name = name + "_seconds";
        this.maxName = name + "_seconds_max";
        this.help = help;
        this.label = label;
        this.clock = clock;
        DistributionStatisticConfig config = DistributionStatisticConfig.builder()
                .percentilesHistogram(true)
                .minimumExpectedValue((double) min.toNanos())
                .maximumExpectedValue((double) max.toNanos())
                .expiry(PrometheusConfig.DEFAULT.step())
                .build()
                .merge(DistributionStatisticConfig.DEFAULT);
        double[] nanos = config.getHistogramBuckets(true).stream().mapToDouble(Double::doubleValue).toArray();
        this.boundsNanos = new long[nanos.length];
        this.boundsSeconds = new double[nanos.length + 1];
        for (int i = 0; i < nanos.length; i++) {
            boundsNanos[i] = (long) Math.floor(nanos[i]);
            boundsSeconds[i] = TimeUtils.nanosToUnit(nanos[i], TimeUnit.SECONDS);
        }
        boundsSeconds[nanos.length] = Double.POSITIVE_INFINITY;
        for (int bits = 1; bits <= 64; bits++) {
            long smallest = 1L << (bits - 1); // negative for 64 bits: every bound is above it, as for any value
            int i = 0;
            while (i < boundsNanos.length && boundsNanos[i] < smallest && smallest > 0) {
                i++;
            }
            firstForBits[bits] = i;
        }
        this.ringLength = config.getBufferLength();
        this.rotateMillis = config.getExpiry().toMillis(); // TimeWindowMax rotates once per expiry
    }

    /**
     * The series of one label value, new unless it exists (as Micrometer hands out the registered meter of an
     * id); {@link #remove} takes it out of the exposition.
     */
    synchronized LoopTimer add(String labelValue) {
        for (LoopTimer t : series) {
            if (t.labelValue().equals(labelValue)) {
                return t;
            }
        }
        LoopTimer t = new LoopTimer(this, labelValue, clock);
        series.add(t);
        return t;
    }

    synchronized void remove(LoopTimer timer) {
        series.remove(timer);
    }

    /** Buckets including the one past the highest bound (+Inf). */
    int bounds() {
        return boundsNanos.length + 1;
    }

    int ringLength() {
        return ringLength;
    }

    long rotateMillis() {
        return rotateMillis;
    }

    /**
     * The bucket of a value: the first whose bound is at least it, else the one past the highest bound. Found from
     * the value's bit length (Micrometer's bounds are a few per power of two), then a short walk: a binary search
     * over the 73 bounds mispredicted its way through seven steps on every request.
     */
    int bucketOf(long nanos) {
        long[] b = boundsNanos;
        int i = firstForBits[64 - Long.numberOfLeadingZeros(nanos)];
        while (i < b.length && b[i] < nanos) {
            i++;
        }
        return i;
    }

    @Override
    public List<String> getPrometheusNames() {
        return List.of(name, maxName);
    }

    @Override
    public MetricSnapshots collect() {
        if (series.isEmpty()) {
            return MetricSnapshots.of();
        }
        HistogramSnapshot.Builder histogram = HistogramSnapshot.builder().name(name).help(help);
        GaugeSnapshot.Builder max = GaugeSnapshot.builder().name(maxName).help(help);
        for (LoopTimer t : series) {
            long[] sums = t.sums();
            int n = bounds();
            long[] counts = java.util.Arrays.copyOf(sums, n);
            Labels labels = Labels.of(label, t.labelValue());
            histogram.dataPoint(HistogramSnapshot.HistogramDataPointSnapshot.builder()
                    .classicHistogramBuckets(ClassicHistogramBuckets.of(boundsSeconds, counts))
                    .sum(TimeUtils.nanosToUnit(sums[n], TimeUnit.SECONDS))
                    .labels(labels)
                    .createdTimestampMillis(t.createdMillis())
                    .build());
            max.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder()
                    .value(TimeUtils.nanosToUnit(t.max(), TimeUnit.SECONDS))
                    .labels(labels)
                    .build());
        }
        return new MetricSnapshots(histogram.build(), max.build());
    }
}
