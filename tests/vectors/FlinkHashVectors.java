// Prints the C++ test vectors for sluice's key hashing, key group assignment and Kafka
// partition assignment, computed by Flink's own classes so that sluice places every key and
// partition where a Flink job would. See README.md in this directory for the jars and the
// command.
//
// Usage: java -cp <flink jars> FlinkHashVectors.java [api|state|kafka]
// Without an argument all three sections are printed. Each section is the text between the
// "BEGIN GENERATED" and "END GENERATED" lines of one test file:
//   api   -> tests/unit/api/key_hash_test.cc
//   state -> tests/unit/state/key_group_assignment_test.cc
//   kafka -> tests/unit/connectors/kafka/partition_assigner_test.cc

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.apache.flink.api.java.tuple.Tuple0;
import org.apache.flink.api.java.tuple.Tuple1;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.api.java.tuple.Tuple3;
import org.apache.flink.api.java.tuple.Tuple4;
import org.apache.flink.runtime.state.KeyGroupRange;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.connectors.kafka.internals.KafkaTopicPartition;
import org.apache.flink.streaming.connectors.kafka.internals.KafkaTopicPartitionAssigner;
import org.apache.flink.util.MathUtils;

// KafkaTopicPartition and its assigner belong to the deprecated FlinkKafkaConsumer; the KafkaSource
// enumerator uses the same formula.
@SuppressWarnings("deprecation")
public final class FlinkHashVectors {

  // ---------------------------------------------------------------------------------------
  // Formatting helpers: every value becomes a C++ literal that compiles without warnings.

  static String cppInt(int v) {
    return v == Integer.MIN_VALUE ? "INT32_MIN" : Integer.toString(v);
  }

  static String cppLong(long v) {
    return v == Long.MIN_VALUE ? "INT64_MIN" : "int64_t{" + v + "}";
  }

  static String cppHex32(int v) {
    return String.format("0x%08Xu", v);
  }

  static String cppHex64(long v) {
    return String.format("0x%016XULL", v);
  }

  /** A C++ string_view literal ("..."sv) holding exactly these bytes. */
  static String cppBytes(byte[] bytes) {
    StringBuilder out = new StringBuilder("\"");
    boolean lastWasHex = false;
    for (byte b : bytes) {
      int u = b & 0xFF;
      boolean printable = u >= 0x20 && u < 0x7F && u != '"' && u != '\\' && u != '?';
      if (printable) {
        boolean hexDigit = Character.digit((char) u, 16) >= 0;
        if (lastWasHex && hexDigit) out.append("\" \"");  // end the \x escape
        out.append((char) u);
        lastWasHex = false;
      } else if (u == '"' || u == '\\' || u == '?') {
        out.append('\\').append((char) u);
        lastWasHex = false;
      } else {
        out.append(String.format("\\x%02X", u));
        lastWasHex = true;
      }
    }
    return out.append("\"sv").toString();
  }

  /** Java's view of a string for a comment: ASCII as is, everything else as \\uXXXX. */
  static String javaEscaped(String s) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < s.length(); ++i) {
      char c = s.charAt(i);
      if (c >= 0x20 && c < 0x7F && c != '\\') {
        out.append(c);
      } else {
        out.append(String.format("\\u%04X", (int) c));
      }
    }
    return out.toString();
  }

  static void printConstant(String name, int value) {
    System.out.printf("constexpr int32_t %s = %s;%n", name, cppInt(value));
  }

  static byte[] bytes(int... values) {
    byte[] out = new byte[values.length];
    for (int i = 0; i < values.length; ++i) out[i] = (byte) values[i];
    return out;
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static String repeat(String s, int n) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < n; ++i) out.append(s);
    return out.toString();
  }

  // ---------------------------------------------------------------------------------------
  // Inputs.

  /** Valid strings, given as Java strings (encoded to UTF-8 for the C++ side). */
  static final String[] kValidStrings = {
    "",
    "a",
    "A",
    "0",
    "-1",
    " ",
    "\t\n",
    "hello",
    "Hello, World!",
    "flink",
    "sluice",
    "user-42",
    "The quick brown fox jumps over the lazy dog",
    repeat("abcdefghij", 10),
    "a\u0000b",
    "\u0000",
    "\u0000\u0000\u0000",
    "caf\u00E9",
    "na\u00EFve",
    "Z\u00FCrich",
    "\u00C0\u00C9\u00CE\u00D5\u00DC",
    "\u00DF",
    "\u00FF",
    "e\u0301",
    "\u0080",
    "\u07FF",
    "\u0800",
    "\u4E2D\u6587",
    "\u65E5\u672C\u8A9E",
    "\uD55C\uAD6D\uC5B4",
    "\u6771\u4EAC\u90FD",
    "\u0395\u03BB\u03BB\u03B7\u03BD\u03B9\u03BA\u03AC",
    "\u041F\u0440\u0438\u0432\u0435\u0442",
    "\u0645\u0631\u062D\u0628\u0627",
    "\u05E9\u05DC\u05D5\u05DD",
    "\uFEFF",
    "\uFFFD",
    "\uFFFF",
    "\uD83D\uDE00",
    "a\uD83D\uDE00b",
    "\uD83D\uDC4D\uD83C\uDFFD",
    "\uD83C\uDDE9\uD83C\uDDEA",
    "\uD834\uDD1E",
    "\uD800\uDC00",
    "\uDBFF\uDFFF",
    "key-\u4E2D-\uD83D\uDE80-" + repeat("\u00E9", 20),
  };

  /** Byte sequences, most of them not valid UTF-8, decoded the way Java decodes them. */
  static final byte[][] kRawByteStrings = {
    bytes(0x80),
    bytes(0xBF),
    bytes(0x80, 0x80),
    bytes(0xC0, 0x80),
    bytes(0xC1, 0xBF),
    bytes(0xC2),
    bytes(0xC2, 0x41),
    bytes(0xC2, 0xC2, 0xA9),
    bytes(0xE0, 0x80, 0x80),
    bytes(0xE0, 0x9F, 0xBF),
    bytes(0xE0, 0xA0),
    bytes(0xE2, 0x82),
    bytes(0xE2, 0x82, 0x41),
    bytes(0xE2, 0x41),
    bytes(0xE2, 0x82, 0xAC, 0xE2),
    bytes(0xED, 0xA0, 0x80),
    bytes(0xED, 0xBF, 0xBF),
    bytes(0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80),
    bytes(0xED, 0xA0),
    bytes(0xED, 0xA0, 0x41),
    bytes(0xED, 0x9F, 0xBF),
    bytes(0xEF, 0xBF, 0xBE),
    bytes(0xF0, 0x80, 0x80, 0x80),
    bytes(0xF0, 0x8F, 0xBF, 0xBF),
    bytes(0xF0, 0x9F, 0x98),
    bytes(0xF0, 0x9F, 0x98, 0x41),
    bytes(0xF0, 0x9F),
    bytes(0xF0, 0x90, 0x80, 0x78),
    bytes(0xF4, 0x8F, 0xBF, 0xBF),
    bytes(0xF4, 0x90, 0x80, 0x80),
    bytes(0xF5, 0x80, 0x80, 0x80),
    bytes(0xF7, 0xBF, 0xBF, 0xBF),
    bytes(0xF8, 0x88, 0x80, 0x80, 0x80),
    bytes(0xFC, 0x84, 0x80, 0x80, 0x80, 0x80),
    bytes(0xFE),
    bytes(0xFF),
    bytes(0xFF, 0xFE),
    bytes('a', 'b', 'c', 0xFF, 'd', 'e', 'f'),
    bytes('a', 0xF0, 0x9F, 0x98, 0x80, 0x80),
    bytes(0xC3, 0xA9, 0xC3),
  };

  static final int[] kMurmurInputs = {
    0, 1, -1, 2, -2, 3, 7, 31, 42, 97, 127, 128, 255, 256, 1000, 1231, 1237, 0x7FFF, 0x8000,
    65535, 65536, 1 << 20, 1 << 30, -(1 << 30), 12345678, -12345678, 99162322, -1875315390,
    0xDEADBEEF, 0xCAFEBABE, 0x12345678, 0x7FFFFFFE, 0x80000001, Integer.MAX_VALUE,
    Integer.MIN_VALUE, 0x55555555, 0xAAAAAAAA, 0x0F0F0F0F, 0x01000000, 2023, 20240101,
  };

  static final String[] kStringKeys = {
    "", "a", "b", "c", "hello", "world", "flink", "sluice", "user-1", "user-2", "user-3",
    "user-42", "user-1000", "apple", "banana", "cherry", "key", "key0", "key1", "key2",
    "caf\u00E9", "\u4E2D\u6587", "\uD83D\uDE00", "The quick brown fox jumps over the lazy dog",
    "order#9f3b2c", "session:abcdef", "de-DE", "en-US", "NULL", "null",
  };

  static final int[] kIntKeys = {
    0, 1, -1, 2, 3, 7, 42, 100, 127, 128, 1000, 4096, 65536, 1000000, -1000000,
    Integer.MAX_VALUE, Integer.MIN_VALUE, 123456789, -987654321, 31,
  };

  static final long[] kLongKeys = {
    0L, 1L, -1L, 42L, 1L << 31, 1L << 32, (1L << 32) + 1, -(1L << 32), 1234567890123L,
    -1234567890123L, Long.MAX_VALUE, Long.MIN_VALUE, 0x7FFFFFFF00000000L, 0x00000000FFFFFFFFL,
    1700000000000L, 1L << 62,
  };

  static final String[] kTopics = {
    "",
    "a",
    "words",
    "orders",
    "events",
    "test-topic",
    "test_topic",
    "topic-0",
    "topic-1",
    "topic-2",
    "topic-10",
    "TOPIC",
    "my.topic.v1",
    "__consumer_offsets",
    "__transaction_state",
    "flink-kafka-source-it-7f3c",
    "payments.eu-west-1.raw",
    "clicks",
    "impressions",
    "user-profiles-compacted",
    repeat("x", 249),
    repeat("topic-", 41),
    "caf\u00E9",
    "\u0442\u0435\u043C\u0430",
    "\u4E3B\u9898",
    "\u30C8\u30D4\u30C3\u30AF",
    "\u00FCberwachung",
    "\uD83D\uDD25-hot",
    "\u03B1\u03B2\u03B3",
    "\uD83D\uDE00\uD83D\uDE00\uD83D\uDE00",
    "Zahlungen-\u00C4\u00D6\u00DC",
  };

  // ---------------------------------------------------------------------------------------
  // Section api: Java hashCode of the values a KeyBy key stands for.

  static void printApi() {
    System.out.println("// Java String.hashCode of valid UTF-8 strings.");
    System.out.println("constexpr StringHashVector kValidStringHashes[] = {");
    for (String s : kValidStrings) {
      System.out.printf("    {%s, %s},  // \"%s\"%n", cppBytes(utf8(s)), cppInt(s.hashCode()),
          javaEscaped(s));
    }
    System.out.println("};");
    System.out.println();

    System.out.println("// new String(bytes, StandardCharsets.UTF_8).hashCode() for byte sequences");
    System.out.println("// that are not (all) valid UTF-8; the comment shows the decoded string.");
    System.out.println("constexpr StringHashVector kRawByteStringHashes[] = {");
    for (byte[] b : kRawByteStrings) {
      String s = new String(b, StandardCharsets.UTF_8);
      System.out.printf("    {%s, %s},  // \"%s\"%n", cppBytes(b), cppInt(s.hashCode()),
          javaEscaped(s));
    }
    System.out.println("};");
    System.out.println();

    printDecoderDigests();

    System.out.println("// Integer.hashCode (Java int).");
    System.out.println("constexpr std::pair<int32_t, int32_t> kIntHashes[] = {");
    for (int v : kIntKeys) {
      System.out.printf("    {%s, %s},%n", cppInt(v), cppInt(Integer.valueOf(v).hashCode()));
    }
    System.out.println("};");
    System.out.println();

    System.out.println("// Long.hashCode (Java long).");
    System.out.println("constexpr std::pair<int64_t, int32_t> kLongHashes[] = {");
    for (long v : kLongKeys) {
      System.out.printf("    {%s, %s},%n", cppLong(v), cppInt(Long.valueOf(v).hashCode()));
    }
    System.out.println("};");
    System.out.println();

    System.out.println("// Short.hashCode and Byte.hashCode.");
    printConstant("kShortMinHash", Short.valueOf(Short.MIN_VALUE).hashCode());
    printConstant("kShortMaxHash", Short.valueOf(Short.MAX_VALUE).hashCode());
    printConstant("kByteMinHash", Byte.valueOf(Byte.MIN_VALUE).hashCode());
    printConstant("kByteMinusOneHash", Byte.valueOf((byte) -1).hashCode());
    System.out.println();

    System.out.println("// Long.hashCode of unsigned 32-bit values widened to long (v & 0xFFFFFFFFL).");
    System.out.println("constexpr std::pair<uint32_t, int32_t> kUint32AsLongHashes[] = {");
    int[] u32 = {0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xDEADBEEF};
    for (int v : u32) {
      long widened = v & 0xFFFFFFFFL;
      System.out.printf("    {%s, %s},%n", cppHex32(v), cppInt(Long.valueOf(widened).hashCode()));
    }
    System.out.println("};");
    System.out.println();

    System.out.println("// Long.hashCode of unsigned 64-bit values reinterpreted as long.");
    System.out.println("constexpr std::pair<uint64_t, int32_t> kUint64AsLongHashes[] = {");
    long[] u64 = {0L, 1L, 0xFFFFFFFFL, 0x100000000L, 0x7FFFFFFFFFFFFFFFL, 0x8000000000000000L,
        0xFFFFFFFFFFFFFFFFL, 0xDEADBEEFCAFEBABEL};
    for (long v : u64) {
      System.out.printf("    {%s, %s},%n", cppHex64(v), cppInt(Long.valueOf(v).hashCode()));
    }
    System.out.println("};");
    System.out.println();

    System.out.println("// Boolean.hashCode.");
    System.out.printf("constexpr int32_t kTrueHash = %s;%n", cppInt(Boolean.TRUE.hashCode()));
    System.out.printf("constexpr int32_t kFalseHash = %s;%n", cppInt(Boolean.FALSE.hashCode()));
    System.out.println();

    System.out.println("// Character.hashCode of UTF-16 code units.");
    System.out.println("constexpr std::pair<uint16_t, int32_t> kCharacterHashes[] = {");
    int[] chars = {0, 'A', 'z', 0x7F, 0x80, 0xE9, 0xFF, 0x4E2D, 0xD800, 0xFFFF};
    for (int c : chars) {
      System.out.printf("    {0x%04X, %s},%n", c, cppInt(Character.valueOf((char) c).hashCode()));
    }
    System.out.println("};");
    System.out.println();

    System.out.println("// Double.hashCode; the input is the IEEE 754 bit pattern.");
    System.out.println("constexpr std::pair<uint64_t, int32_t> kDoubleHashes[] = {");
    double[] doubles = {0.0, -0.0, 1.0, -1.0, 0.1, 1.5, 3.141592653589793, 1e300, -1e-300,
        Double.MIN_VALUE, Double.MAX_VALUE, Double.MIN_NORMAL, Double.POSITIVE_INFINITY,
        Double.NEGATIVE_INFINITY, Double.NaN, 42.0, 1700000000000.0};
    for (double d : doubles) {
      System.out.printf("    {%s, %s},  // %s%n", cppHex64(Double.doubleToRawLongBits(d)),
          cppInt(Double.valueOf(d).hashCode()), Double.toString(d));
    }
    // NaNs with other payloads: Double.hashCode folds them into the canonical NaN.
    long[] nanBits = {0x7FF0000000000001L, 0xFFF8000000000000L, 0x7FFFFFFFFFFFFFFFL,
        0xFFF0000000000123L};
    for (long bits : nanBits) {
      System.out.printf("    {%s, %s},  // NaN payload%n", cppHex64(bits),
          cppInt(Double.valueOf(Double.longBitsToDouble(bits)).hashCode()));
    }
    System.out.println("};");
    System.out.println();

    System.out.println("// Float.hashCode; the input is the IEEE 754 bit pattern.");
    System.out.println("constexpr std::pair<uint32_t, int32_t> kFloatHashes[] = {");
    float[] floats = {0.0f, -0.0f, 1.0f, -1.0f, 0.1f, 1.5f, 3.1415927f, Float.MIN_VALUE,
        Float.MAX_VALUE, Float.MIN_NORMAL, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
        Float.NaN, 42.0f};
    for (float f : floats) {
      System.out.printf("    {%s, %s},  // %s%n", cppHex32(Float.floatToRawIntBits(f)),
          cppInt(Float.valueOf(f).hashCode()), Float.toString(f));
    }
    int[] fnanBits = {0x7F800001, 0xFFC00000, 0x7FFFFFFF};
    for (int bits : fnanBits) {
      System.out.printf("    {%s, %s},  // NaN payload%n", cppHex32(bits),
          cppInt(Float.valueOf(Float.intBitsToFloat(bits)).hashCode()));
    }
    System.out.println("};");
    System.out.println();

    System.out.println("// Flink Tuple2<String, Integer>.hashCode.");
    System.out.println("constexpr PairStringIntVector kTuple2StringIntHashes[] = {");
    Object[][] pairs = {{"", 0}, {"a", 1}, {"user-42", -7}, {"caf\u00E9", Integer.MAX_VALUE},
        {"\uD83D\uDE00", Integer.MIN_VALUE}, {"The quick brown fox", 123456789}};
    for (Object[] p : pairs) {
      String f0 = (String) p[0];
      int f1 = (Integer) p[1];
      System.out.printf("    {%s, %s, %s},%n", cppBytes(utf8(f0)), cppInt(f1),
          cppInt(Tuple2.of(f0, f1).hashCode()));
    }
    System.out.println("};");
    System.out.println();

    System.out.println("// Flink Tuple3<Integer, Long, String>.hashCode.");
    System.out.println("constexpr Tuple3IntLongStringVector kTuple3IntLongStringHashes[] = {");
    Object[][] triples = {{0, 0L, ""}, {1, 2L, "three"}, {-1, -1L, "\u4E2D"},
        {Integer.MAX_VALUE, Long.MIN_VALUE, "\uD83D\uDE00x"}, {42, 1L << 40, "user-42"}};
    for (Object[] t : triples) {
      int f0 = (Integer) t[0];
      long f1 = (Long) t[1];
      String f2 = (String) t[2];
      System.out.printf("    {%s, %s, %s, %s},%n", cppInt(f0), cppLong(f1), cppBytes(utf8(f2)),
          cppInt(Tuple3.of(f0, f1, f2).hashCode()));
    }
    System.out.println("};");
    System.out.println();

    System.out.println("// Other tuple shapes.");
    System.out.printf("constexpr int32_t kTuple0Hash = %s;  // Tuple0%n", cppInt(Tuple0.INSTANCE.hashCode()));
    System.out.printf("constexpr int32_t kTuple1StringHash = %s;  // Tuple1.of(\"solo\")%n",
        cppInt(Tuple1.of("solo").hashCode()));
    System.out.printf(
        "constexpr int32_t kTuple4Hash = %s;  // Tuple4.of(true, 2.5, (short) -3, 'x')%n",
        cppInt(Tuple4.of(true, 2.5, (short) -3, 'x').hashCode()));
    System.out.printf(
        "constexpr int32_t kNestedTupleHash = %s;  // Tuple2.of(Tuple2.of(\"k\", 1L), 7)%n",
        cppInt(Tuple2.of(Tuple2.of("k", 1L), 7).hashCode()));
    System.out.printf(
        "constexpr int32_t kTuple2WithNullHash = %s;  // Tuple2.of(null, \"x\")%n",
        cppInt(new Tuple2<String, String>(null, "x").hashCode()));
  }

  // Checksums of the decoder over many byte sequences; key_hash_test.cc enumerates the same
  // sequences in the same order. Fold: digest = digest * 1099511628211 + (hash as unsigned).
  static long fold(long digest, byte[] b, int len) {
    int h = new String(b, 0, len, StandardCharsets.UTF_8).hashCode();
    return digest * 1099511628211L + (h & 0xFFFFFFFFL);
  }

  static final int[] kInterestingBytes = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF,
      0xC0, 0xC2, 0xE0, 0xED, 0xF0, 0xF4, 0xFF};

  static void printDecoderDigests() {
    byte[] b = new byte[16];

    long all1 = 0;  // every 1-byte sequence
    for (int b0 = 0; b0 < 256; ++b0) {
      b[0] = (byte) b0;
      all1 = fold(all1, b, 1);
    }
    long all2 = 0;  // every 2-byte sequence
    for (int b0 = 0; b0 < 256; ++b0) {
      for (int b1 = 0; b1 < 256; ++b1) {
        b[0] = (byte) b0;
        b[1] = (byte) b1;
        all2 = fold(all2, b, 2);
      }
    }
    long lead3 = 0;  // every 3-byte sequence whose first byte is 0xC0..0xFF
    for (int b0 = 0xC0; b0 < 256; ++b0) {
      for (int b1 = 0; b1 < 256; ++b1) {
        for (int b2 = 0; b2 < 256; ++b2) {
          b[0] = (byte) b0;
          b[1] = (byte) b1;
          b[2] = (byte) b2;
          lead3 = fold(lead3, b, 3);
        }
      }
    }
    long lead4 = 0;  // first byte 0xE0..0xFF, any second byte, interesting third and fourth
    for (int b0 = 0xE0; b0 < 256; ++b0) {
      for (int b1 = 0; b1 < 256; ++b1) {
        for (int b2 : kInterestingBytes) {
          for (int b3 : kInterestingBytes) {
            b[0] = (byte) b0;
            b[1] = (byte) b1;
            b[2] = (byte) b2;
            b[3] = (byte) b3;
            lead4 = fold(lead4, b, 4);
          }
        }
      }
    }
    // 200000 sequences of 0..15 bytes drawn from kInterestingBytes plus a few valid
    // continuation bytes, chosen by a 64-bit LCG (Knuth's MMIX constants); the state's top
    // bits pick the length, then each byte.
    int[] alphabet = new int[kInterestingBytes.length + 4];
    System.arraycopy(kInterestingBytes, 0, alphabet, 0, kInterestingBytes.length);
    alphabet[kInterestingBytes.length] = 0x84;
    alphabet[kInterestingBytes.length + 1] = 0x9F;
    alphabet[kInterestingBytes.length + 2] = 0xAA;
    alphabet[kInterestingBytes.length + 3] = 0xE2;
    long state = 20240917L;
    long random = 0;
    for (int i = 0; i < 200000; ++i) {
      state = state * 6364136223846793005L + 1442695040888963407L;
      int len = (int) (state >>> 60);
      for (int j = 0; j < len; ++j) {
        state = state * 6364136223846793005L + 1442695040888963407L;
        b[j] = (byte) alphabet[(int) ((state >>> 33) % alphabet.length)];
      }
      random = fold(random, b, len);
    }
    System.out.println("// Decoder checksums (see DecoderDigest in this file).");
    System.out.printf("constexpr uint64_t kDigestAll1Byte = %s;%n", cppHex64(all1));
    System.out.printf("constexpr uint64_t kDigestAll2Byte = %s;%n", cppHex64(all2));
    System.out.printf("constexpr uint64_t kDigestLead3Byte = %s;%n", cppHex64(lead3));
    System.out.printf("constexpr uint64_t kDigestLead4Byte = %s;%n", cppHex64(lead4));
    System.out.printf("constexpr uint64_t kDigestRandom = %s;%n", cppHex64(random));
    System.out.println();
  }

  // ---------------------------------------------------------------------------------------
  // Section state: MathUtils.murmurHash and KeyGroupRangeAssignment.

  static void printState() {
    System.out.println("// MathUtils.murmurHash.");
    System.out.println("constexpr std::pair<int32_t, int32_t> kMurmurHashes[] = {");
    for (int v : kMurmurInputs) {
      System.out.printf("    {%s, %s},%n", cppInt(v), cppInt(MathUtils.murmurHash(v)));
    }
    System.out.println("};");
    System.out.println();

    System.out.println("// KeyGroupRangeAssignment.assignToKeyGroup(String key, 128 / 4096) and");
    System.out.println("// assignKeyToParallelOperator(key, 128, 3).");
    System.out.println("constexpr StringKeyGroupVector kStringKeyGroups[] = {");
    for (String k : kStringKeys) {
      System.out.printf("    {%s, %d, %d, %d},  // \"%s\"%n", cppBytes(utf8(k)),
          KeyGroupRangeAssignment.assignToKeyGroup(k, 128),
          KeyGroupRangeAssignment.assignToKeyGroup(k, 4096),
          KeyGroupRangeAssignment.assignKeyToParallelOperator(k, 128, 3), javaEscaped(k));
    }
    System.out.println("};");
    System.out.println();

    System.out.println("// assignToKeyGroup(Integer key, 128 / 4096).");
    System.out.println("constexpr IntKeyGroupVector kIntKeyGroups[] = {");
    for (int k : kIntKeys) {
      System.out.printf("    {%s, %d, %d},%n", cppInt(k),
          KeyGroupRangeAssignment.assignToKeyGroup(k, 128),
          KeyGroupRangeAssignment.assignToKeyGroup(k, 4096));
    }
    System.out.println("};");
    System.out.println();

    System.out.println("// assignToKeyGroup(Long key, 128 / 4096).");
    System.out.println("constexpr LongKeyGroupVector kLongKeyGroups[] = {");
    for (long k : kLongKeys) {
      System.out.printf("    {%s, %d, %d},%n", cppLong(k),
          KeyGroupRangeAssignment.assignToKeyGroup(k, 128),
          KeyGroupRangeAssignment.assignToKeyGroup(k, 4096));
    }
    System.out.println("};");
    System.out.println();

    System.out.println("// computeKeyGroupRangeForOperatorIndex: {max, parallelism, index, start, end}.");
    System.out.println("constexpr RangeVector kKeyGroupRanges[] = {");
    List<int[]> configs = new ArrayList<>();
    for (int p = 1; p <= 7; ++p) configs.add(new int[] {128, p});
    configs.add(new int[] {10, 3});
    for (int[] c : configs) {
      for (int i = 0; i < c[1]; ++i) {
        KeyGroupRange r =
            KeyGroupRangeAssignment.computeKeyGroupRangeForOperatorIndex(c[0], c[1], i);
        System.out.printf("    {%d, %d, %d, %d, %d},%n", c[0], c[1], i, r.getStartKeyGroup(),
            r.getEndKeyGroup());
      }
    }
    System.out.println("};");
    System.out.println();

    System.out.println("// computeOperatorIndexForKeyGroup for every key group: {max, parallelism, indices}.");
    System.out.println("const OperatorIndexVector kOperatorIndices[] = {");
    for (int[] c : configs) {
      StringBuilder row = new StringBuilder();
      for (int kg = 0; kg < c[0]; ++kg) {
        if (kg > 0) row.append(kg % 24 == 0 ? ",\n      " : ", ");
        row.append(KeyGroupRangeAssignment.computeOperatorIndexForKeyGroup(c[0], c[1], kg));
      }
      System.out.printf("    {%d, %d, {%s}},%n", c[0], c[1], row);
    }
    System.out.println("};");
    System.out.println();

    System.out.println("// computeDefaultMaxParallelism.");
    System.out.println("constexpr std::pair<int32_t, int32_t> kFlinkDefaultMaxParallelism[] = {");
    int[] ps = {1, 2, 10, 85, 86, 100, 128, 1000, 5000, 10922, 10923, 21845, 21846, 32768};
    for (int p : ps) {
      System.out.printf("    {%d, %d},%n", p, KeyGroupRangeAssignment.computeDefaultMaxParallelism(p));
    }
    System.out.println("};");
  }

  // ---------------------------------------------------------------------------------------
  // Section kafka: KafkaTopicPartitionAssigner.assign.

  static void printKafka() {
    System.out.println("// KafkaTopicPartitionAssigner.assign(new KafkaTopicPartition(topic, partition),");
    System.out.println("// parallelism): subtasks[parallelism - 1][partition].");
    System.out.println("const TopicVector kTopicAssignments[] = {");
    for (String topic : kTopics) {
      System.out.printf("    {%s,  // \"%s\"%n     {", cppBytes(utf8(topic)),
          javaEscaped(topic.length() > 40 ? topic.substring(0, 40) + "..." : topic));
      for (int p = 1; p <= 5; ++p) {
        StringBuilder row = new StringBuilder();
        for (int partition = 0; partition < 12; ++partition) {
          if (partition > 0) row.append(", ");
          KafkaTopicPartition tp = new KafkaTopicPartition(topic, partition);
          row.append(KafkaTopicPartitionAssigner.assign(tp, p));
        }
        System.out.printf("%s{%s}%s", p == 1 ? "" : "      ", row, p == 5 ? "}},\n" : ",\n");
      }
    }
    System.out.println("};");
    System.out.println();

    System.out.println("// Larger parallelism and partition numbers, including partitions so large that");
    System.out.println("// Java's int addition wraps: {topic, partition, parallelism, subtask}.");
    System.out.println("constexpr LargeAssignmentVector kLargeAssignments[] = {");
    String[] topics = {"words", "orders", "\u4E3B\u9898", "test-topic"};
    int[][] cases = {{0, 7}, {100, 7}, {1000, 64}, {123456, 1000}, {5, 32768},
        {Integer.MAX_VALUE, 7}, {Integer.MAX_VALUE - 3, 13}, {Integer.MAX_VALUE, 1}};
    for (String topic : topics) {
      for (int[] c : cases) {
        System.out.printf("    {%s, %s, %d, %s},%n", cppBytes(utf8(topic)), cppInt(c[0]), c[1],
            cppInt(KafkaTopicPartitionAssigner.assign(topic, c[0], c[1])));
      }
    }
    System.out.println("};");
  }

  public static void main(String[] args) {
    String only = args.length > 0 ? args[0] : "";
    boolean all = only.isEmpty();
    if (all || only.equals("api")) {
      if (all) System.out.println("// ===== section api: tests/unit/api/key_hash_test.cc");
      printApi();
    }
    if (all || only.equals("state")) {
      if (all) System.out.println("// ===== section state: tests/unit/state/key_group_assignment_test.cc");
      printState();
    }
    if (all || only.equals("kafka")) {
      if (all) {
        System.out.println(
            "// ===== section kafka: tests/unit/connectors/kafka/partition_assigner_test.cc");
      }
      printKafka();
    }
    if (!all && !only.equals("api") && !only.equals("state") && !only.equals("kafka")) {
      System.err.println("usage: FlinkHashVectors [api|state|kafka]");
      System.exit(2);
    }
  }
}
