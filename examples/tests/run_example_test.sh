#!/usr/bin/env bash
# The examples' short runs in the test suite (examples/CMakeLists.txt). Each scenario uses a
# topic of its own, created here (the broker does not create topics) and deleted at the end.
#
# usage: run_example_test.sh TOPIC_TOOL WRITE_INTO_KAFKA READ_FROM_KAFKA SCENARIO
#   roundtrip  write 5 elements, read them back bounded from the earliest offset: exactly
#              "add element : 0" .. "add element : 4"
#   offsets    write 5, read from offsets:TOPIC/0=2: exactly elements 2..4
#   sasl       roundtrip through the SASL_PLAINTEXT listener, the security settings given with
#              --property (as the seed's Kerberos ones would be)
#   kerberos   roundtrip through the GSSAPI listener with the seed's own two properties
#              (security.protocol=SASL_PLAINTEXT, sasl.kerberos.service.name=kafka) and a ticket
#              that `kinit alice` put in the cache, as a user of the seed would run them
#   keytab     the same with no ticket cache: --security.kerberos.login.keytab/.principal
#   flags      --help, unknown flags and bad values (exit 0 / 2 with a message)
# The Kerberos scenarios use the realm, keytabs and krb5.conf of scripts/kafka in
# $SLUICE_KAFKA_DIR (default .kafka-data) and the GSSAPI listener $SLUICE_GSSAPI_BOOTSTRAP_SERVERS
# (default localhost:19095).
set -euo pipefail

topic_tool=$1 write=$2 read=$3 scenario=$4
topic="sluice-example-${scenario}-$$-${RANDOM}"
group="sluice-example-${scenario}-$$-${RANDOM}"

fail() {
  echo "FAILED: $*" >&2
  exit 1
}

# Runs "$@", expecting exit status $1 and stderr containing $2.
expect_exit() {
  local want=$1 needle=$2 status=0 err
  shift 2
  err=$("$@" 2>&1 >/dev/null) || status=$?
  [[ $status == "$want" ]] || fail "$* exited $status, expected $want; stderr: $err"
  [[ $err == *"$needle"* ]] || fail "$* did not say '$needle'; stderr: $err"
  echo "ok: $* -> exit $status ($needle)"
}

# Compares the read example's stdout with the expected lines.
expect_lines() {
  local got=$1 want=$2
  if [[ $got != "$want" ]]; then
    diff <(printf '%s\n' "$want") <(printf '%s\n' "$got") >&2 || true
    fail "read_from_kafka printed something else (diff: expected vs printed)"
  fi
  echo "ok: read_from_kafka printed exactly the expected $(printf '%s\n' "$want" | wc -l) lines"
}

kafka_dir=${SLUICE_KAFKA_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.kafka-data}
gssapi=(--bootstrap-servers "${SLUICE_GSSAPI_BOOTSTRAP_SERVERS:-localhost:19095}"
        --property security.protocol=SASL_PLAINTEXT --property sasl.kerberos.service.name=kafka)

# A private krb5 environment: the local realm, and a ticket cache of this run only.
kerberos_env() {
  [[ -f $kafka_dir/kerberos/krb5.conf ]] ||
    fail "no $kafka_dir/kerberos/krb5.conf: start the broker with scripts/kafka start"
  export KRB5_CONFIG=$kafka_dir/kerberos/krb5.conf
  ccache_dir=$(mktemp -d)
  export KRB5CCNAME=FILE:$ccache_dir/ccache
}

with_topic() {
  "$topic_tool" create "$topic" 1
  trap '"$topic_tool" delete "$topic" || true' EXIT
}

case $scenario in
  roundtrip)
    with_topic
    "$write" --count 5 --interval 10ms --topic "$topic"
    got=$("$read" --bounded --start-from earliest --topic "$topic" --group-id "$group")
    expect_lines "$got" "$(printf 'add element : %d\n' 0 1 2 3 4)"
    ;;
  offsets)
    with_topic
    "$write" --count 5 --interval 10ms --topic "$topic"
    got=$("$read" --bounded --start-from "offsets:$topic/0=2" --topic "$topic" --group-id "$group")
    expect_lines "$got" "$(printf 'add element : %d\n' 2 3 4)"
    ;;
  sasl)
    with_topic
    sasl=(--bootstrap-servers "${SLUICE_SASL_BOOTSTRAP_SERVERS:-127.0.0.1:19094}"
          --property security.protocol=SASL_PLAINTEXT --property sasl.mechanism=PLAIN
          --property sasl.username=admin --property sasl.password=admin-secret)
    "$write" --count 3 --interval 10ms --topic "$topic" "${sasl[@]}"
    got=$("$read" --bounded --start-from earliest --topic "$topic" --group-id "$group" "${sasl[@]}")
    expect_lines "$got" "$(printf 'add element : %d\n' 0 1 2)"
    # The same credentials from --property-file, as Flink users keep them: off the command line.
    properties=$(mktemp)
    trap '"$topic_tool" delete "$topic" || true; rm -f "$properties"' EXIT
    chmod 600 "$properties"
    printf '%s\n' '# SASL/PLAIN as alice' 'security.protocol=SASL_PLAINTEXT' 'sasl.mechanism = PLAIN' \
      'sasl.username=alice' 'sasl.password=alice-secret' >"$properties"
    got=$("$read" --bounded --start-from earliest --topic "$topic" --group-id "$group-file" \
      --bootstrap-servers "${SLUICE_SASL_BOOTSTRAP_SERVERS:-127.0.0.1:19094}" --property-file "$properties")
    expect_lines "$got" "$(printf 'add element : %d\n' 0 1 2)"
    # A wrong password on the command line overrides the file's, and is never printed back.
    expect_exit 1 "Invalid username or password" "$read" --bounded --topic "$topic" --group-id "$group-file" \
      --bootstrap-servers "${SLUICE_SASL_BOOTSTRAP_SERVERS:-127.0.0.1:19094}" --property-file "$properties" \
      --property sasl.password=wrong-secret-xyz
    err=$("$read" --bounded --topic "$topic" --group-id "$group-file" --property-file "$properties" \
      --bootstrap-servers "${SLUICE_SASL_BOOTSTRAP_SERVERS:-127.0.0.1:19094}" \
      --property sasl.password=wrong-secret-xyz 2>&1 >/dev/null) || true
    [[ $err != *wrong-secret-xyz* ]] || fail "read_from_kafka printed the password: $err"
    expect_exit 2 "cannot open the properties file /nonexistent.properties: No such file or directory" "$read" --bounded --topic "$topic" --property-file /nonexistent.properties
    ;;
  kerberos)
    with_topic
    kerberos_env
    trap '"$topic_tool" delete "$topic" || true; rm -rf "$ccache_dir"' EXIT
    # `kinit alice` as a user would, with the keytab instead of typing alice-secret.
    kinit -k -t "$kafka_dir/kerberos/alice.keytab" alice
    "$write" --count 3 --interval 10ms --topic "$topic" "${gssapi[@]}"
    got=$("$read" --bounded --start-from earliest --topic "$topic" --group-id "$group" "${gssapi[@]}")
    expect_lines "$got" "$(printf 'add element : %d\n' 0 1 2)"
    ;;
  keytab)
    with_topic
    kerberos_env
    trap '"$topic_tool" delete "$topic" || true; rm -rf "$ccache_dir"' EXIT
    login=(--security.kerberos.login.keytab "$kafka_dir/kerberos/alice.keytab"
           --security.kerberos.login.principal alice@SLUICE.TEST)
    "$write" --count 3 --interval 10ms --topic "$topic" "${gssapi[@]}" "${login[@]}"
    got=$("$read" --bounded --start-from earliest --topic "$topic" --group-id "$group" "${gssapi[@]}" "${login[@]}")
    expect_lines "$got" "$(printf 'add element : %d\n' 0 1 2)"
    expect_exit 2 "needs --security.kerberos.login.principal" \
      "$write" --count 1 --topic "$topic" "${gssapi[@]}" --security.kerberos.login.keytab "$kafka_dir/kerberos/alice.keytab"
    expect_exit 2 "the keytab file does not exist" \
      "$write" --count 1 --topic "$topic" "${gssapi[@]}" --security.kerberos.login.keytab "$kafka_dir/kerberos/nobody.keytab" \
      --security.kerberos.login.principal nobody@SLUICE.TEST
    ;;
  flags)
    expect_exit 0 "" "$write" --help
    [[ $("$write" --help) == *--interval*--checkpoint-interval* ]] || fail "write_into_kafka --help lists both kinds of flags"
    [[ $("$read" --help) == *--start-from*--checkpoint-interval* ]] || fail "read_from_kafka --help lists both kinds of flags"
    expect_exit 2 "unknown flag --intervall (did you mean --interval?)" "$write" --intervall 3s
    expect_exit 2 "unknown flag --paralelism (did you mean --parallelism?)" "$read" --paralelism 2
    expect_exit 2 "unexpected positional argument 'seconds'" "$write" --interval 3 seconds
    expect_exit 2 "--interval" "$write" --interval 3sec
    expect_exit 2 "--count" "$write" --count 0
    expect_exit 2 "expected KEY=VALUE" "$write" --property security.protocol
    expect_exit 2 "linger.mss" "$write" --count 1 --topic "$topic" --property linger.mss=5
    expect_exit 2 "--start-from bogus" "$read" --start-from bogus
    expect_exit 2 "is not TOPIC/PARTITION=OFFSET" "$read" --start-from offsets:flink001=3
    expect_exit 2 "not in the future" "$read" --start-from timestamp:99999999999999
    ;;
  *)
    fail "unknown scenario $scenario"
    ;;
esac
echo "scenario $scenario passed"
