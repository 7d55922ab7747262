# Shared by the scripts that test a running server from outside (schemathesis, the generated
# client): `start_demo` serves a fresh demo database in a directory of its own at the default
# rate limits, sets `base` to its address, and stops it when the script exits; `token ROLE`
# prints the API token the demo printed for a user of that role.
# Needs `root` (the repository) set, and target/debug/duban built.

demo_dir=""
demo_pid=""

stop_demo() {
    [ -n "$demo_pid" ] && kill "$demo_pid" 2>/dev/null || true
    [ -n "$demo_dir" ] && rm -rf "$demo_dir"
}

start_demo() {
    demo_dir=$(mktemp -d)
    trap stop_demo EXIT
    (cd "$demo_dir" && exec "$root/target/debug/duban" serve --demo --scale 0.1 --addr 127.0.0.1:0 \
        --no-scheduler >"$demo_dir/serve.log" 2>&1) &
    demo_pid=$!
    for _ in $(seq 1 120); do
        grep -q '^listening on ' "$demo_dir/serve.log" && break
        kill -0 "$demo_pid" 2>/dev/null || { cat "$demo_dir/serve.log"; exit 1; }
        sleep 0.5
    done
    base=$(sed -n 's/^listening on //p' "$demo_dir/serve.log" | head -n 1)
    [ -n "$base" ] || { echo "duban serve did not start" >&2; cat "$demo_dir/serve.log"; exit 1; }
}

token() { awk -v r="$1" '$1 == r { print $3 }' "$demo_dir/serve.log" | head -n 1; }
