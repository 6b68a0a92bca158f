#!/bin/sh
# Writes server.properties from the environment as apache/kafka does, formats the log directory once, then runs the
# broker in the foreground (PID 1 through exec, so that SIGTERM is a controlled shutdown).
set -eu
conf=/opt/kafka/config/server.properties
: > "$conf"
# Each KAFKA_* variable but the JVM's own: lower case, ___ -> -, __ -> _, _ -> .
env | grep '^KAFKA_' | while IFS= read -r line; do
  name=${line%%=*}
  value=${line#*=}
  case "$name" in KAFKA_HEAP_OPTS|KAFKA_OPTS|KAFKA_JVM_PERFORMANCE_OPTS|KAFKA_LOG4J_OPTS|KAFKA_GC_LOG_OPTS|KAFKA_DEBUG) continue ;; esac
  key=$(printf '%s' "${name#KAFKA_}" | tr 'A-Z' 'a-z' | sed -e 's/___/-/g' -e 's/__/\x01/g' -e 's/_/./g' -e 's/\x01/_/g')
  printf '%s=%s\n' "$key" "$value" >> "$conf"
done
grep -q '^log\.dirs=' "$conf" || echo 'log.dirs=/var/lib/kafka/data' >> "$conf"
log_dir=$(sed -n 's/^log\.dirs=//p' "$conf" | cut -d, -f1)
cp="/opt/kafka/libs/*"
java_opts="${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g} -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError -Dlog4j2.configurationFile=/opt/kafka/log4j2.properties ${KAFKA_OPTS:-}"
if [ ! -f "$log_dir/meta.properties" ]; then
  # shellcheck disable=SC2086
  java $java_opts -cp "$cp" kafka.tools.StorageTool format --ignore-formatted -t "${CLUSTER_ID:-5L6g3nShT-eMCtK--X86sw}" -c "$conf"
fi
# shellcheck disable=SC2086
exec java $java_opts -cp "$cp" kafka.Kafka "$conf"
