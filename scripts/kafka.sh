#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft) on 127.0.0.1 for tests and local runs.
#
#   scripts/kafka.sh start    fetch the jars (first use), format the log dir (first use), start,
#                             wait until the broker answers; prints "started", or
#                             "already running" when something already answers on the port
#   scripts/kafka.sh stop     stop the broker this script started (by its pid) and wait for it
#   scripts/kafka.sh status   exit 0 when the broker answers on the port
#
# Needs only Java 17+ and Maven. Everything it makes lives under .tools/kafka/ (git-ignored):
# libs/ (jars from config/kafka/pom.xml), data-<port>/ (the log), broker.log, kafka.pid
# (broker-<port>.log and kafka-<port>.pid for a port other than 9092).
# Environment: KAFKA_PORT (default 9092; the controller listens on KAFKA_PORT+1),
# KAFKA_START_TIMEOUT_S (default 90).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONFIG_DIR="$REPO/config/kafka"
TOOLS_DIR="$REPO/.tools/kafka"
LIBS_DIR="$TOOLS_DIR/libs"
PORT="${KAFKA_PORT:-9092}"
CONTROLLER_PORT="$((PORT + 1))"
DATA_DIR="$TOOLS_DIR/data-$PORT"
RUNTIME_CONFIG="$TOOLS_DIR/server-$PORT.properties"
# A broker on another port (KAFKA_PORT) keeps its own log and pid files beside the default's.
SUFFIX="$([[ "$PORT" == 9092 ]] || echo "-$PORT")"
LOG_FILE="$TOOLS_DIR/broker$SUFFIX.log"
PID_FILE="$TOOLS_DIR/kafka$SUFFIX.pid"
START_TIMEOUT_S="${KAFKA_START_TIMEOUT_S:-90}"
STOP_TIMEOUT_S=30

log() { echo "kafka.sh: $*" >&2; }

kafka_version() {
  sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$CONFIG_DIR/pom.xml"
}

# True when something accepts TCP connections on the broker port.
port_answers() {
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null
}

broker_pid() {
  [[ -f "$PID_FILE" ]] && cat "$PID_FILE"
}

# A process that exited but was not reaped yet (a zombie) counts as gone.
pid_alive() {
  [[ -n "${1:-}" && -r "/proc/$1/stat" ]] && ! grep -q ') Z ' "/proc/$1/stat" 2>/dev/null
}

fetch_jars() {
  local version
  version="$(kafka_version)"
  if [[ -f "$LIBS_DIR/kafka_2.13-$version.jar" ]]; then
    return
  fi
  log "fetching Apache Kafka $version jars from Maven Central into $LIBS_DIR"
  rm -rf "$LIBS_DIR"
  mvn -q -B -Dstyle.color=never -f "$CONFIG_DIR/pom.xml" \
    dependency:copy-dependencies -DoutputDirectory="$LIBS_DIR" >&2
}

run_java() {
  java -cp "$LIBS_DIR/*" -Dlog4j2.configurationFile="$CONFIG_DIR/log4j2.properties" "$@"
}

# The checked-in settings plus what depends on this run: the log dir and the ports.
write_runtime_config() {
  mkdir -p "$TOOLS_DIR"
  {
    cat "$CONFIG_DIR/server.properties"
    echo
    echo "# Appended by scripts/kafka.sh"
    echo "log.dirs=$DATA_DIR"
    echo "listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT"
    echo "advertised.listeners=PLAINTEXT://127.0.0.1:$PORT"
    echo "controller.quorum.bootstrap.servers=127.0.0.1:$CONTROLLER_PORT"
  } >"$RUNTIME_CONFIG"
}

format_log_dir_once() {
  if [[ -f "$DATA_DIR/meta.properties" ]]; then
    return
  fi
  local cluster_id
  cluster_id="$(run_java kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)"
  log "formatting $DATA_DIR (cluster $cluster_id)"
  run_java kafka.tools.StorageTool format --standalone \
    --config "$RUNTIME_CONFIG" --cluster-id "$cluster_id" >/dev/null
}

# The broker logs this line once it serves clients (after the metadata log has caught up).
broker_ready() {
  port_answers && grep -q "Kafka Server started" "$LOG_FILE" 2>/dev/null
}

wait_until_ready() {
  local pid="$1" deadline=$((SECONDS + START_TIMEOUT_S))
  until broker_ready; do
    if ! pid_alive "$pid"; then
      log "broker exited during start-up; last lines of $LOG_FILE:"
      tail -n 30 "$LOG_FILE" >&2
      rm -f "$PID_FILE"
      return 1
    fi
    if ((SECONDS >= deadline)); then
      log "broker did not answer on 127.0.0.1:$PORT within ${START_TIMEOUT_S}s; see $LOG_FILE"
      kill "$pid" 2>/dev/null || true
      rm -f "$PID_FILE"
      return 1
    fi
    sleep 0.5
  done
}

start() {
  if port_answers; then
    echo "already running"
    return
  fi
  fetch_jars
  write_runtime_config
  format_log_dir_once
  : >"$LOG_FILE"
  # setsid: a Ctrl-C in the calling terminal (or make) must not reach the broker.
  setsid java -Xms256m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$CONFIG_DIR/log4j2.properties" \
    -cp "$LIBS_DIR/*" kafka.Kafka "$RUNTIME_CONFIG" >>"$LOG_FILE" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$PID_FILE"
  wait_until_ready "$pid"
  echo "started"
}

stop() {
  local pid
  pid="$(broker_pid || true)"
  if ! pid_alive "$pid"; then
    rm -f "$PID_FILE"
    echo "not running"
    return
  fi
  kill "$pid"
  local deadline=$((SECONDS + STOP_TIMEOUT_S))
  while pid_alive "$pid"; do
    if ((SECONDS >= deadline)); then
      log "broker $pid still running after ${STOP_TIMEOUT_S}s; killing it"
      kill -9 "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  rm -f "$PID_FILE"
  echo "stopped"
}

status() {
  if port_answers; then
    echo "running on 127.0.0.1:$PORT"
  else
    echo "not running"
    return 1
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
