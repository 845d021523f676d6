#!/usr/bin/env bash
# Local Apache Kafka (KRaft) for development, tests and CI, without Docker.
#
#   broker.sh up [--nodes N]     start (or keep) a secured broker; N=1 (default) or 3
#   broker.sh down               stop every node (data is kept)
#   broker.sh status [--json]    exit 0 when every node is up, 3 otherwise
#   broker.sh env                connection settings (no secrets) as KEY=value lines
#   broker.sh sync-users [P...]  make the broker's SCRAM users exactly admin + P...
#   broker.sh rotate P           new password for principal P (credentials.json + broker)
#   broker.sh reset              down, then delete all broker state (data, TLS, credentials)
#   broker.sh prepare            TLS, credentials and a container config for infra/compose.yaml (no local JVM)
#   broker.sh resolve            only resolve the jars (mvn) and compile the access tool
#
# State lives in ${BACKBONE_HOME:-<repo>/.backbone}/kafka; jars in infra/kafka/.cache. See infra/README.md.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BACKBONE_HOME=${BACKBONE_HOME:-$REPO/.backbone}
mkdir -p "$BACKBONE_HOME"
BACKBONE_HOME=$(cd "$BACKBONE_HOME" && pwd)
STATE=$BACKBONE_HOME/kafka
TLS=$STATE/tls
CREDENTIALS=$STATE/credentials.json
CLIENT_PROPERTIES=$STATE/admin-client.properties
CACHE=$HERE/.cache
LIBS=$CACHE/libs
CLASSES=$CACHE/target/classes

# Ports clear of the machine's other services (PostgreSQL, MariaDB, Redis, RabbitMQ, MQTT, NATS).
CLIENT_PORT=${BACKBONE_KAFKA_PORT:-19092}
CONTROLLER_PORT=${BACKBONE_KAFKA_CONTROLLER_PORT:-19192}
HEAP=${BACKBONE_KAFKA_HEAP:-512m}
# Extra JVM flags for every node, split on spaces (the fault tier sets its own: test/faults/fault.cluster.ts).
read -r -a JVM_EXTRA <<<"${BACKBONE_KAFKA_JVM_FLAGS:-}"
START_TIMEOUT=${BACKBONE_KAFKA_START_TIMEOUT:-180}
STOP_TIMEOUT=${BACKBONE_KAFKA_STOP_TIMEOUT:-60}
BROKER_DN="CN=backbone-broker"
READY_MARKER="Kafka Server started"
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java

log() { printf 'broker: %s\n' "$*" >&2; }
die() { printf 'broker: error: %s\n' "$*" >&2; exit 1; }

client_port() { echo $((CLIENT_PORT + $1 - 1)); }
controller_port() { echo $((CONTROLLER_PORT + $1 - 1)); }
node_dir() { echo "$STATE/node-$1"; }

brokers_list() {
  local n=$1 i out=""
  for ((i = 1; i <= n; i++)); do out+="${out:+,}127.0.0.1:$(client_port "$i")"; done
  echo "$out"
}

stored_nodes() {
  if [[ -f $STATE/cluster.env ]]; then sed -n 's/^NODES=//p' "$STATE/cluster.env"; fi
}

# A new KRaft cluster id: 16 random bytes, base64url as Kafka writes them. Never one that starts with
# '-': kafka-storage's argument parser reads "--cluster-id -Ux..." as a missing value and the format
# fails (it did, once in about 64 fresh clusters: a fault-tier start of a CI run).
new_cluster_id() {
  local id
  while id=$(openssl rand -base64 16 | tr '+/' '-_' | tr -d '=\n') && [[ $id == -* ]]; do :; done
  printf '%s' "$id"
}

stored_cluster_id() {
  if [[ -f $STATE/cluster.env ]]; then sed -n 's/^CLUSTER_ID=//p' "$STATE/cluster.env"; fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A pid file only counts when that pid is still our java for this node's config (pids get reused).
node_pid() {
  local dir pid
  dir=$(node_dir "$1")
  [[ -f $dir/kafka.pid ]] || return 1
  pid=$(<"$dir/kafka.pid")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  # Read the whole command line first: `tr | grep -q` under pipefail fails when grep exits early
  # and tr dies of SIGPIPE, which made a starting broker look dead.
  local cmdline
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmdline == *"$dir/server.properties"* ]] || return 1
  echo "$pid"
}

node_up() { node_pid "$1" >/dev/null && port_open "$(client_port "$1")"; }

existing_node_ids() {
  local d
  for d in "$STATE"/node-*; do [[ -d $d ]] && echo "${d##*/node-}"; done | sort -n
}

with_lock() {
  mkdir -p "$STATE"
  chmod 700 "$STATE"
  exec 9>"$STATE/.lock"
  flock -w 600 9 || die "could not lock $STATE/.lock within 600s"
}

require_tools() {
  command -v "$JAVA" >/dev/null || die "java not found (need Java 17+; set JAVA_HOME)"
  local major
  major=$("$JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
  [[ ${major%%.*} -ge 17 ]] 2>/dev/null || die "Kafka 4 needs Java 17+, found ${major:-unknown}"
  command -v openssl >/dev/null || die "openssl not found"
  command -v keytool >/dev/null || die "keytool not found (it comes with the JDK)"
}

# Jars from Maven Central, resolved once and reused until pom.xml or the access tool changes.
ensure_jars() {
  mkdir -p "$CACHE"
  local want
  want=$(cat "$HERE/pom.xml" "$HERE"/src/main/java/backbone/infra/*.java | sha256sum | cut -d' ' -f1)
  if [[ -f $CACHE/stamp && $(<"$CACHE/stamp") == "$want" && -d $LIBS && -d $CLASSES ]]; then return 0; fi
  (
    exec 8>"$CACHE/.lock"
    flock -w 900 8 || die "could not lock $CACHE/.lock"
    if [[ -f $CACHE/stamp && $(<"$CACHE/stamp") == "$want" && -d $LIBS && -d $CLASSES ]]; then exit 0; fi
    command -v mvn >/dev/null || die "mvn not found (Maven resolves the Kafka jars)"
    log "resolving Kafka jars with Maven (first run only)"
    rm -rf "$LIBS" "$CACHE/target" "$CACHE/stamp"
    if ! mvn -q -B -f "$HERE/pom.xml" compile dependency:copy-dependencies >"$CACHE/mvn.log" 2>&1; then
      tail -n 40 "$CACHE/mvn.log" >&2
      die "maven failed; full log in $CACHE/mvn.log"
    fi
    echo "$want" >"$CACHE/stamp"
  )
}

# One JVM for the access tool; its stdout is the result, its logs go to stderr.
access_tool() {
  "$JAVA" -Xmx256m -XX:TieredStopAtLevel=1 -Xshare:auto \
    -Dlog4j2.configurationFile="$HERE/log4j2-tool.xml" \
    -cp "$CLASSES:$LIBS/*" backbone.infra.AccessTool "$@"
}

new_secret() { openssl rand -hex 24; }

# Returns 0 when a new admin credential was made: the cluster metadata must then be formatted anew.
ensure_credentials() {
  if [[ -f $CREDENTIALS ]] && grep -q '"admin" *: *"[0-9a-f]\{16,\}"' "$CREDENTIALS"; then
    chmod 600 "$CREDENTIALS"
    return 1
  fi
  log "generating the admin credential"
  (umask 077 && printf '{\n  "mechanism" : "SCRAM-SHA-512",\n  "principals" : {\n    "admin" : "%s"\n  }\n}\n' "$(new_secret)" >"$CREDENTIALS.tmp")
  mv -f "$CREDENTIALS.tmp" "$CREDENTIALS"
  return 0
}

admin_password() { sed -n 's/.*"admin" *: *"\([0-9a-f]*\)".*/\1/p' "$CREDENTIALS" | head -n1; }

tls_valid() {
  local f
  for f in ca.pem broker.pem keystore.p12 truststore.p12 store-password; do [[ -s $TLS/$f ]] || return 1; done
  # Renew a week ahead so a long test run never meets an expired certificate.
  openssl x509 -checkend 604800 -noout -in "$TLS/broker.pem" >/dev/null 2>&1 || return 1
  openssl x509 -checkend 604800 -noout -in "$TLS/ca.pem" >/dev/null 2>&1
}

ensure_tls() {
  tls_valid && return 0
  log "generating TLS material (local CA, broker keystore, truststore)"
  rm -rf "$TLS"
  mkdir -p "$TLS"
  chmod 700 "$TLS"
  (
    umask 077
    cd "$TLS"
    new_secret >store-password
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 825 \
      -subj "/CN=Backbone local CA" -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout broker.key -out broker.csr \
      -subj "/$BROKER_DN" 2>/dev/null
    printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=CA:FALSE" \
      "keyUsage=critical,digitalSignature,keyAgreement" "extendedKeyUsage=serverAuth,clientAuth" >broker.ext
    openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out broker.pem -days 825 -sha256 \
      -extfile broker.ext 2>/dev/null
    # The broker presents this chain to clients, and to the controllers as its mutual-TLS identity.
    openssl pkcs12 -export -in broker.pem -inkey broker.key -certfile ca.pem -name broker -out keystore.p12 \
      -passout file:store-password
    keytool -importcert -noprompt -alias backbone-ca -file ca.pem -keystore truststore.p12 -storetype PKCS12 \
      -storepass:file store-password >/dev/null 2>&1
    # Nothing more is ever signed: dropping the CA key means a copied state dir cannot mint identities.
    rm -f ca.key ca.srl broker.csr broker.ext
  )
  chmod 644 "$TLS/ca.pem" "$TLS/broker.pem"
}

write_server_properties() {
  local i=$1 n=$2 dir voters="" j rf misr
  dir=$(node_dir "$i")
  for ((j = 1; j <= n; j++)); do voters+="${voters:+,}$j@127.0.0.1:$(controller_port "$j")"; done
  if ((n >= 3)); then rf=3 misr=2; else rf=$n misr=1; fi
  local store_pw admin_pw
  store_pw=$(<"$TLS/store-password")
  admin_pw=$(admin_password)
  mkdir -p "$dir/data" "$dir/logs"
  (
    umask 077
    cat >"$dir/server.properties.new" <<EOF
# Generated by infra/kafka/broker.sh; rewritten on every 'up'. Holds secrets: mode 600.
# tls: $(sha256sum "$TLS/keystore.p12" | cut -c1-16)
node.id=$i
process.roles=broker,controller
controller.quorum.voters=$voters
controller.listener.names=CONTROLLER
listeners=CLIENT://127.0.0.1:$(client_port "$i"),CONTROLLER://127.0.0.1:$(controller_port "$i")
advertised.listeners=CLIENT://127.0.0.1:$(client_port "$i")
listener.security.protocol.map=CLIENT:SASL_SSL,CONTROLLER:SSL
inter.broker.listener.name=CLIENT

# Clients and brokers authenticate with SCRAM over TLS; controllers (which cannot use SCRAM) with mutual TLS.
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$admin_pw";
ssl.keystore.type=PKCS12
ssl.keystore.location=$TLS/keystore.p12
ssl.keystore.password=$store_pw
ssl.key.password=$store_pw
ssl.truststore.type=PKCS12
ssl.truststore.location=$TLS/truststore.p12
ssl.truststore.password=$store_pw
ssl.endpoint.identification.algorithm=https
ssl.client.auth=none
listener.name.controller.ssl.client.auth=required

authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:admin;User:$BROKER_DN

log.dirs=$dir/data
auto.create.topics.enable=false
num.partitions=1
default.replication.factor=$rf
min.insync.replicas=$misr
unclean.leader.election.enable=false
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$misr
transaction.state.log.num.partitions=5
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$misr
# After a crash the restarted node waits out its previous registration's session; keep that short.
broker.session.timeout.ms=4000
broker.heartbeat.interval.ms=1000
# Tests create groups constantly; the default 3 s join delay would dominate their run time.
group.initial.rebalance.delay.ms=0

# Sized for a shared 2-core development machine.
num.network.threads=2
num.io.threads=4
background.threads=4
num.recovery.threads.per.data.dir=1
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=8388608
log.segment.bytes=16777216
log.retention.hours=72
EOF
  )
}

# Each node's JVM runs in its own session so neither a terminal's Ctrl-C nor a test runner's exit stops it,
# and without the lock descriptors, which it would otherwise hold for its whole life.
start_node() {
  local i=$1 dir
  dir=$(node_dir "$i")
  for port in "$(client_port "$i")" "$(controller_port "$i")"; do
    if port_open "$port"; then die "port $port is taken by another process (set BACKBONE_KAFKA_PORT / BACKBONE_KAFKA_CONTROLLER_PORT)"; fi
  done
  : >"$dir/logs/console.log"
  stat -c %s "$dir/logs/server.log" 2>/dev/null >"$dir/logs/.ready-offset" || echo 0 >"$dir/logs/.ready-offset"
  (
    cd "$dir"
    setsid nohup "$JAVA" -Xms64m -Xmx"$HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError "${JVM_EXTRA[@]}" \
      -Djava.awt.headless=true -Dkafka.logs.dir="$dir/logs" -Dlog4j2.configurationFile="$HERE/log4j2.xml" \
      -cp "$LIBS/*" kafka.Kafka "$dir/server.properties" >>"$dir/logs/console.log" 2>&1 </dev/null 8>&- 9>&- &
    echo $! >"$dir/kafka.pid"
  )
  log "node $i starting (pid $(<"$dir/kafka.pid"), 127.0.0.1:$(client_port "$i"), log $dir/logs/server.log)"
}

node_ready() {
  local i=$1 dir offset
  dir=$(node_dir "$i")
  node_up "$i" || return 1
  offset=$(cat "$dir/logs/.ready-offset" 2>/dev/null || echo 0)
  # grep reads to the end (no -q): an early exit would kill tail with SIGPIPE and fail the pipe.
  tail -c +$((offset + 1)) "$dir/logs/server.log" 2>/dev/null | grep -F "$READY_MARKER" >/dev/null
}

wait_ready() {
  local deadline=$((SECONDS + START_TIMEOUT)) i pending
  while :; do
    pending=()
    for i in "$@"; do
      node_ready "$i" && continue
      if ! node_pid "$i" >/dev/null; then
        local dir
        dir=$(node_dir "$i")
        tail -n 30 "$dir/logs/console.log" "$dir/logs/server.log" >&2 2>/dev/null || true
        die "node $i exited during start-up; logs in $dir/logs"
      fi
      pending+=("$i")
    done
    ((${#pending[@]} == 0)) && return 0
    ((SECONDS < deadline)) || die "node(s) ${pending[*]} not ready after ${START_TIMEOUT}s; logs in $STATE/node-*/logs"
    sleep 0.2
  done
}

stop_nodes() {
  local i pid pids=() deadline
  for i in "$@"; do
    if pid=$(node_pid "$i"); then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  deadline=$((SECONDS + STOP_TIMEOUT))
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null; do
      if ((SECONDS >= deadline)); then
        log "pid $pid ignored SIGTERM for ${STOP_TIMEOUT}s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
        break
      fi
      sleep 0.2
    done
  done
  for i in "$@"; do rm -f "$(node_dir "$i")/kafka.pid"; done
}

node_formatted() {
  local i=$1 cid=$2 meta
  meta=$(node_dir "$i")/data/meta.properties
  [[ -f $meta ]] && grep -qx "cluster.id=$cid" "$meta" && grep -qx "node.id=$i" "$meta"
}

write_client_properties() {
  local n=$1
  # Non-secret connection facts for @backbone/infra, readable without running this script.
  printf 'KAFKA_BROKERS=%s\nKAFKA_CA_FILE=%s\nBACKBONE_KAFKA_NODES=%s\n' "$(brokers_list "$n")" "$TLS/ca.pem" "$n" >"$STATE/connection.env"
  (
    umask 077
    cat >"$CLIENT_PROPERTIES" <<EOF
# Admin (superuser) client settings for Kafka's own tools, e.g.
#   java -cp 'infra/kafka/.cache/libs/*' org.apache.kafka.tools.AclCommand --bootstrap-server $(brokers_list "$n") --command-config $CLIENT_PROPERTIES --list
bootstrap.servers=$(brokers_list "$n")
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$(admin_password)";
ssl.truststore.type=PKCS12
ssl.truststore.location=$TLS/truststore.p12
ssl.truststore.password=$(<"$TLS/store-password")
EOF
  )
}

cmd_up() {
  local nodes="" i
  while (($#)); do
    case $1 in
      --nodes) nodes=${2:-}; shift 2 || die "--nodes needs a value" ;;
      --nodes=*) nodes=${1#--nodes=}; shift ;;
      *) die "unknown option $1" ;;
    esac
  done
  nodes=${nodes:-$(stored_nodes)}
  nodes=${nodes:-1}
  [[ $nodes == 1 || $nodes == 3 ]] || die "--nodes must be 1 or 3"
  local started=$SECONDS
  require_tools
  with_lock
  ensure_jars

  local fresh_admin=0 cid
  ensure_credentials && fresh_admin=1
  ensure_tls
  cid=$(stored_cluster_id)
  if ((fresh_admin)) || [[ -z $cid || $(stored_nodes) != "$nodes" ]]; then
    # The admin credential and the voter set are fixed at format time: changing either means a new cluster.
    mapfile -t old < <(existing_node_ids)
    if ((${#old[@]})); then
      log "cluster layout or admin credential changed: stopping and wiping the old cluster"
      stop_nodes "${old[@]}"
      for i in "${old[@]}"; do rm -rf "$(node_dir "$i")"; done
    fi
    cid=$(new_cluster_id)
    printf 'NODES=%s\nCLUSTER_ID=%s\n' "$nodes" "$cid" >"$STATE/cluster.env"
  fi

  local to_format=() to_start=() cfg
  for ((i = 1; i <= nodes; i++)); do
    write_server_properties "$i" "$nodes"
    cfg=$(node_dir "$i")/server.properties
    if [[ -f $cfg ]] && cmp -s "$cfg" "$cfg.new"; then
      rm -f "$cfg.new"
    else
      if node_pid "$i" >/dev/null; then
        log "node $i configuration changed: restarting it"
        stop_nodes "$i"
      fi
      mv -f "$cfg.new" "$cfg"
    fi
    if node_up "$i"; then continue; fi
    if node_pid "$i" >/dev/null; then
      # Alive but not listening yet: another 'up' started it moments ago, or it is still starting.
      to_start+=("$i")
      continue
    fi
    rm -f "$(node_dir "$i")/kafka.pid"
    node_formatted "$i" "$cid" || to_format+=("$i")
    to_start+=("$i")
  done
  if ((${#to_start[@]} == 0)); then
    write_client_properties "$nodes"
    log "already up: $(brokers_list "$nodes")"
    return 0
  fi
  for i in "${to_format[@]}"; do
    rm -rf "$(node_dir "$i")/data"
    mkdir -p "$(node_dir "$i")/data"
    log "formatting node $i storage (cluster $cid)"
    access_tool format "$(node_dir "$i")/server.properties" "$cid" "$CREDENTIALS" >"$(node_dir "$i")/logs/format.log" 2>&1 \
      || { cat "$(node_dir "$i")/logs/format.log" >&2; die "formatting node $i failed"; }
  done
  for i in "${to_start[@]}"; do node_pid "$i" >/dev/null || start_node "$i"; done
  wait_ready "${to_start[@]}"
  write_client_properties "$nodes"
  log "up in $((SECONDS - started))s: $(brokers_list "$nodes")"
}

# Same security settings for the apache/kafka container of infra/compose.yaml: state is made on the host,
# mounted read-only, and the container formats its own volume with the same admin credential.
cmd_prepare() {
  require_tools
  with_lock
  ensure_credentials || true
  ensure_tls
  local cid
  cid=$(stored_cluster_id)
  if [[ -z $cid || $(stored_nodes) != 1 ]]; then
    cid=$(new_cluster_id)
    printf 'NODES=1\nCLUSTER_ID=%s\n' "$cid" >"$STATE/cluster.env"
  fi
  write_server_properties 1 1
  local dir cfg
  dir=$(node_dir 1)
  mkdir -p "$STATE/container"
  chmod 700 "$STATE/container"
  cfg=$STATE/container/server.properties
  (
    umask 077
    sed -e "s#^listeners=CLIENT://127.0.0.1:#listeners=CLIENT://0.0.0.0:#" \
      -e "s#$TLS/#/etc/backbone/tls/#g" -e "s#^log.dirs=.*#log.dirs=/var/lib/kafka/data#" \
      "$dir/server.properties.new" >"$cfg"
    cat >"$STATE/container/start.sh" <<EOF
#!/bin/sh
# Generated by infra/kafka/broker.sh prepare; holds the admin password (mode 600).
set -e
/opt/kafka/bin/kafka-storage.sh format --ignore-formatted --cluster-id $cid --config /etc/backbone/config/server.properties \\
  --add-scram 'SCRAM-SHA-512=[name=admin,password=$(admin_password)]'
exec /opt/kafka/bin/kafka-server-start.sh /etc/backbone/config/server.properties
EOF
  )
  rm -f "$dir/server.properties.new"
  write_client_properties 1
  log "prepared $STATE/container for infra/compose.yaml"
}

cmd_down() {
  with_lock
  mapfile -t ids < <(existing_node_ids)
  ((${#ids[@]})) || { log "nothing to stop"; return 0; }
  stop_nodes "${ids[@]}"
  log "stopped"
}

cmd_status() {
  local json=0 n i pid state all=0 members=""
  [[ ${1:-} == --json ]] && json=1
  n=$(stored_nodes)
  n=${n:-0}
  for ((i = 1; i <= n; i++)); do
    if pid=$(node_pid "$i"); then
      if port_open "$(client_port "$i")"; then state=up; else state=starting; fi
    else
      pid="" state=down
    fi
    [[ $state == up ]] || all=1
    if ((json)); then
      members+="${members:+,}{\"node\":$i,\"state\":\"$state\",\"pid\":${pid:-null},\"address\":\"127.0.0.1:$(client_port "$i")\"}"
    else
      echo "node $i: $state${pid:+ (pid $pid)} 127.0.0.1:$(client_port "$i")"
    fi
  done
  ((n > 0)) || all=1
  if ((json)); then
    printf '{"up":%s,"nodes":%s,"brokers":"%s","stateDir":"%s","members":[%s]}\n' \
      "$([[ $all == 0 ]] && echo true || echo false)" "$n" "$( ((n > 0)) && brokers_list "$n")" "$STATE" "$members"
  elif ((n == 0)); then
    echo "no broker has been set up in $STATE"
  fi
  return $((all == 0 ? 0 : 3))
}

cmd_env() {
  local n
  n=$(stored_nodes)
  n=${n:-1}
  echo "KAFKA_BROKERS=$(brokers_list "$n")"
  echo "KAFKA_CA_FILE=$TLS/ca.pem"
  echo "KAFKA_SASL_MECHANISM=scram-sha-512"
  echo "BACKBONE_KAFKA_CREDENTIALS=$CREDENTIALS"
  echo "BACKBONE_KAFKA_STATE=$STATE"
  echo "BACKBONE_KAFKA_NODES=$n"
}

require_running() {
  [[ -f $CLIENT_PROPERTIES ]] || die "no broker set up; run: broker.sh up"
  cmd_status >/dev/null || die "broker is not up; run: broker.sh up"
}

cmd_sync_users() {
  require_tools
  with_lock
  ensure_jars
  require_running
  access_tool sync-users "$CLIENT_PROPERTIES" "$CREDENTIALS" "$@"
}

cmd_rotate() {
  (($# == 1)) || die "usage: broker.sh rotate <principal>"
  require_tools
  with_lock
  ensure_jars
  require_running
  access_tool rotate "$CLIENT_PROPERTIES" "$CREDENTIALS" "$1"
  log "rotated $1: restart the services that use it (they read credentials at start)"
}

cmd_reset() {
  with_lock
  mapfile -t ids < <(existing_node_ids)
  ((${#ids[@]})) && stop_nodes "${ids[@]}"
  find "$STATE" -mindepth 1 -maxdepth 1 ! -name .lock -exec rm -rf {} +
  log "state removed from $STATE"
}

main() {
  local cmd=${1:-}
  shift || true
  case $cmd in
    up) cmd_up "$@" ;;
    down) cmd_down ;;
    status) cmd_status "$@" ;;
    env) cmd_env ;;
    sync-users) cmd_sync_users "$@" ;;
    rotate) cmd_rotate "$@" ;;
    reset) cmd_reset ;;
    prepare) cmd_prepare ;;
    resolve) require_tools && ensure_jars ;;
    *) sed -n '2,14s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; exit 2 ;;
  esac
}

main "$@"
