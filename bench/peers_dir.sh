# Sourced by bench/run.sh and bench/profile.sh (ROOT set): PEERS, the peer harness. Unless given,
# the shared one beside the repository, else the copy kept in bench/peers/ (the same files).
if [ -z "${PEERS:-}" ]; then
  PEERS=$ROOT/../shared/peers
  [ -x "$PEERS/bench.sh" ] || PEERS=$ROOT/bench/peers
fi
