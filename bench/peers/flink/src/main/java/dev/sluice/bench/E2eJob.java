package dev.sluice.bench;

import java.util.HashMap;
import java.util.Map;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.serialization.SimpleStringSchema;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The end-to-end benchmark job in Apache Flink, the same graph as bench/e2e/sluice_pipeline.cc:
 * KafkaSource (earliest, optionally bounded at the latest offsets) -> map (append "|mapped") ->
 * KafkaSink (NONE / AT_LEAST_ONCE / EXACTLY_ONCE), in a local MiniCluster inside this JVM.
 *
 * <pre>
 * java -cp ... dev.sluice.bench.E2eJob --input T --output T --guarantee none|at_least_once|exactly_once
 *     [--bounded true|false] [--parallelism 2] [--checkpoint-interval-ms 1000]
 *     [--checkpoint-dir DIR] [--bootstrap-servers S] [--run-id ID]
 * </pre>
 *
 * Every setting given to Flink is here and in bench/README.md; everything else is Flink's default.
 */
public final class E2eJob {
  private static final String SUFFIX = "|mapped";

  public static void main(String[] args) throws Exception {
    Map<String, String> flags = new HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (!args[i].startsWith("--")) throw new IllegalArgumentException("expected --flag value, got " + args[i]);
      flags.put(args[i].substring(2), args[i + 1]);
    }
    String bootstrap = flags.getOrDefault("bootstrap-servers", "127.0.0.1:19092");
    String input = required(flags, "input");
    String output = required(flags, "output");
    String guaranteeName = flags.getOrDefault("guarantee", "none");
    boolean bounded = Boolean.parseBoolean(flags.getOrDefault("bounded", "true"));
    int parallelism = Integer.parseInt(flags.getOrDefault("parallelism", "2"));
    long checkpointIntervalMs = Long.parseLong(flags.getOrDefault("checkpoint-interval-ms", "1000"));
    String runId = flags.getOrDefault("run-id", "e2e");
    DeliveryGuarantee guarantee =
        switch (guaranteeName) {
          case "none" -> DeliveryGuarantee.NONE;
          case "at_least_once" -> DeliveryGuarantee.AT_LEAST_ONCE;
          case "exactly_once" -> DeliveryGuarantee.EXACTLY_ONCE;
          default -> throw new IllegalArgumentException(
              "--guarantee " + guaranteeName + ": expected none, at_least_once or exactly_once");
        };

    Map<String, String> config = new HashMap<>();
    // The MiniCluster's REST endpoint listens on the loopback only (not a performance setting).
    config.put("rest.bind-address", "127.0.0.1");
    config.put("rest.address", "127.0.0.1");
    // Checkpoints go to files, as sluice's do (Flink's default without a directory keeps them
    // in the JobManager's heap, which a real deployment does not use).
    if (flags.containsKey("checkpoint-dir")) {
      config.put("execution.checkpointing.storage", "filesystem");
      config.put("execution.checkpointing.dir", "file://" + flags.get("checkpoint-dir"));
    }
    StreamExecutionEnvironment env =
        StreamExecutionEnvironment.getExecutionEnvironment(Configuration.fromMap(config));
    env.setParallelism(parallelism);
    env.enableCheckpointing(checkpointIntervalMs);

    KafkaSourceBuilder<String> sourceBuilder =
        KafkaSource.<String>builder()
            .setBootstrapServers(bootstrap)
            .setTopics(input)
            .setGroupId("flink-e2e-" + runId)
            .setStartingOffsets(OffsetsInitializer.earliest())
            .setValueOnlyDeserializer(new SimpleStringSchema())
            // Kafka's Java default is read_uncommitted; sluice and the plain loop read committed.
            .setProperty("isolation.level", "read_committed");
    if (bounded) sourceBuilder.setBounded(OffsetsInitializer.latest());

    KafkaSink<String> sink =
        KafkaSink.<String>builder()
            .setBootstrapServers(bootstrap)
            .setRecordSerializer(
                KafkaRecordSerializationSchema.builder()
                    .setTopic(output)
                    .setValueSerializationSchema(new SimpleStringSchema())
                    .build())
            .setDeliveryGuarantee(guarantee)
            .setTransactionalIdPrefix("flink-e2e-" + runId)
            // Flink's default (1 hour) is refused by a broker with the default
            // transaction.max.timeout.ms (15 minutes).
            .setProperty("transaction.timeout.ms", "900000")
            .build();

    env.fromSource(sourceBuilder.build(), WatermarkStrategy.noWatermarks(), "Kafka Source")
        .uid("source")
        .map(value -> value + SUFFIX)
        .uid("append-suffix")
        .sinkTo(sink)
        .uid("sink");
    env.execute("e2e-" + runId);
    System.out.println("flink_job: {\"status\":\"FINISHED\",\"guarantee\":\"" + guaranteeName + "\"}");
    // The MiniCluster leaves non-daemon threads behind; the measurement ends with the process.
    System.exit(0);
  }

  private static String required(Map<String, String> flags, String name) {
    String value = flags.get(name);
    if (value == null) throw new IllegalArgumentException("--" + name + " is required");
    return value;
  }
}
