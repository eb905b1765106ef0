# shellcheck shell=bash
# Sourced by the scripts that start an inst server on port 0 (`auxsync
# serve` or interop/node_server): both print the URL they listen on,
# ws://HOST:PORT/websocket, on a line of its own once they accept
# connections.
#
#   source "<repository>/interop/lib/server_url.sh"
#   server ... >"${out}" 2>"${log}" &
#   wait_for_server_url "${out}" "${log}"    # sets $url

# wait_for_server_url OUT LOG [TRIES]: waits up to TRIES x 50 ms (default
# 200) for that line in the file OUT (whole: a line still being written
# does not match) and sets $url to it. If none comes, prints LOG (the
# server's errors) and exits 1.
wait_for_server_url() {
  local out="$1" log="$2" tries="${3:-200}"
  local pattern='^ws://.*/websocket$'
  for _ in $(seq "${tries}"); do
    grep -q "${pattern}" "${out}" 2>/dev/null && break
    sleep 0.05
  done
  # shellcheck disable=SC2034  # $url is the caller's
  url="$(grep -m1 "${pattern}" "${out}" 2>/dev/null)" || {
    echo "the server printed no URL in $((tries / 20)) s; its log:" >&2
    cat "${log}" >&2
    exit 1
  }
}
