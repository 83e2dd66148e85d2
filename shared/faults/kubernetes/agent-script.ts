/**
 * The chaos agent: a POSIX shell script that runs as the command of an ephemeral container in the target pod, so the
 * agent image only needs `sh`, `tc` (iproute2) and `stress-ng` (agent/Dockerfile builds one). Shipping the script in
 * the container spec rather than in the image keeps the behaviour versioned with the control plane and visible in
 * the pod's spec (`kubectl get pod -o yaml`).
 *
 * It applies one fault, then undoes it when its duration ends or when it gets SIGTERM/SIGINT/SIGHUP (the rollback
 * sends SIGTERM through exec; the kubelet sends it when the pod goes), checks that the fault is gone, and exits:
 *
 *   0  undone and verified          3  undo attempted, the fault is still there
 *   4  nothing applied (says why)   2  bad configuration
 *
 * Every step is a `chaosduck-agent: …` line on stdout, which the control plane reads from the container log. The
 * agent refuses to start applying after `CHAOSDUCK_START_BY` (epoch seconds): a container whose image took too long
 * to pull must not inject a fault the control plane has already given up on and rolled back.
 *
 * Configuration (environment): CHAOSDUCK_FAULT (network_latency|network_loss|cpu_stress|memory_stress),
 * CHAOSDUCK_DURATION_SECONDS, CHAOSDUCK_RUN_DIR (where the pid file lives, for the stop command),
 * CHAOSDUCK_START_BY, CHAOSDUCK_INTERFACE, CHAOSDUCK_LATENCY_MS, CHAOSDUCK_JITTER_MS, CHAOSDUCK_LOSS_PERCENT,
 * CHAOSDUCK_CPU_WORKERS, CHAOSDUCK_CPU_LOAD, CHAOSDUCK_MEMORY_MB.
 */

/** The qdisc handle the agent's netem gets, so it only ever removes its own. */
export const NETEM_HANDLE = '4c44:';

/** Log prefixes the control plane looks for. */
export const AGENT_APPLIED = 'chaosduck-agent: applied';
export const AGENT_UNDONE = 'chaosduck-agent: undone';

export const AGENT_EXIT = { undone: 0, config: 2, undoFailed: 3, notApplied: 4 } as const;

export const AGENT_SCRIPT = `set -u
log() { echo "chaosduck-agent: $*"; }
fault="\${CHAOSDUCK_FAULT:?}"
duration="\${CHAOSDUCK_DURATION_SECONDS:?}"
run="\${CHAOSDUCK_RUN_DIR:?}"
dev="\${CHAOSDUCK_INTERFACE:-eth0}"
handle=${NETEM_HANDLE}
now=$(date +%s)
if [ "$now" -gt "\${CHAOSDUCK_START_BY:-$now}" ]; then
  log "not applied: started at $now, after the deadline $CHAOSDUCK_START_BY the control plane gave it"; exit 4
fi
need() { command -v "$1" >/dev/null 2>&1 || { log "not applied: the agent image has no $1"; exit 4; }; }
case "$fault" in
  network_latency|network_loss) need tc ;;
  cpu_stress|memory_stress) need stress-ng ;;
  *) log "not applied: unknown fault $fault"; exit 2 ;;
esac
mkdir -p "$run" && echo $$ > "$run/pid"
stress=
sleeper=
ours() { tc qdisc show dev "$dev" 2>/dev/null | grep -q "netem $handle"; }
present() {
  case "$fault" in
    network_*) ours ;;
    *) [ -n "$stress" ] && kill -0 "$stress" 2>/dev/null ;;
  esac
}
undo() {
  case "$fault" in
    network_*) if ours; then tc qdisc del dev "$dev" root; fi ;;
    *) if [ -n "$stress" ]; then kill -TERM "$stress" 2>/dev/null; wait "$stress" 2>/dev/null; fi ;;
  esac
}
finish() {
  trap '' TERM INT HUP
  if [ -n "$sleeper" ]; then kill "$sleeper" 2>/dev/null; fi
  undo
  if present; then log "undo FAILED ($1): the fault is still in place"; exit 3; fi
  rm -rf "$run"
  log "undone ($1) and verified"
  exit 0
}
refuse() { rm -rf "$run"; log "not applied: $1"; exit 4; }
trap 'finish "stopped by signal"' TERM INT HUP
case "$fault" in
  network_latency|network_loss)
    if ! current=$(tc qdisc show dev "$dev" 2>&1); then refuse "no interface $dev: $current"; fi
    case "$current" in *netem*) refuse "$dev already has a netem qdisc (another fault is running)" ;; esac
    if [ "$fault" = network_latency ]; then
      set -- delay "\${CHAOSDUCK_LATENCY_MS}ms"
      if [ "\${CHAOSDUCK_JITTER_MS:-0}" -gt 0 ]; then set -- "$@" "\${CHAOSDUCK_JITTER_MS}ms"; fi
    else
      set -- loss "\${CHAOSDUCK_LOSS_PERCENT}%"
    fi
    if ! err=$(tc qdisc add dev "$dev" root handle "$handle" netem "$@" 2>&1); then refuse "tc qdisc add on $dev failed: $err"; fi
    log "applied: netem $* on $dev for \${duration}s" ;;
  cpu_stress)
    stress-ng --cpu "\${CHAOSDUCK_CPU_WORKERS}" --cpu-load "\${CHAOSDUCK_CPU_LOAD}" --timeout "\${duration}s" &
    stress=$!
    log "applied: stress-ng --cpu \${CHAOSDUCK_CPU_WORKERS} at \${CHAOSDUCK_CPU_LOAD}% for \${duration}s (pid $stress)" ;;
  memory_stress)
    stress-ng --vm 1 --vm-bytes "\${CHAOSDUCK_MEMORY_MB}M" --vm-keep --timeout "\${duration}s" &
    stress=$!
    log "applied: stress-ng --vm holding \${CHAOSDUCK_MEMORY_MB}M for \${duration}s (pid $stress)" ;;
esac
sleep "$duration" &
sleeper=$!
wait "$sleeper"
sleeper=
finish "duration of \${duration}s ended"
`;
