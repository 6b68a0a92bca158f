#!/bin/sh
# Kafka's own config tool (kafka.admin.ConfigCommand, in the broker's jar), as the official image names it: the
# harness adds SCRAM users with it, and docker-compose.yml asks it whether the broker answers.
exec java -Xmx256m -Dlog4j2.configurationFile=/opt/kafka/log4j2-tools.properties -cp "/opt/kafka/libs/*" kafka.admin.ConfigCommand "$@"
