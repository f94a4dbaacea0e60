#!/bin/bash
# tests/runner-steps-system.sh: the system steps against real appliances.
#  - hostname: /etc/hostname and the 127.0.1.1 line of /etc/hosts, read
#    back by raw calls in the same job; its result names old and new
#  - an invalid host name fails the task, naming the step and its line
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
t_begin runner-steps-system

tests/bin/make-sample-image "$out/a.img" 32 alpha 2>"$out/mk.err" ||
  { echo "cannot make a sample image: $(cat "$out/mk.err")" >&2; exit 77; }

cat > "$out/host.yaml" <<'YAML'
name: host
images: a.img
readonly: false
steps:
  - hostname: web1.example.com
  - cat: /etc/hostname
    save_as: hn
  - cat: /etc/hosts
    save_as: hosts
  - hostname: {name: "bad_name!"}
YAML
$gk run --db "$db" "$out/host.yaml" >"$out/run.out" 2>&1
hn=$(q "SELECT json_extract(value, '$') FROM facts WHERE name = 'hn'")
hosts=$(q "SELECT json_extract(value, '$') FROM facts WHERE name = 'hosts'")
res=$(q "SELECT result FROM steps WHERE seq = 1")
if [ "$hn" = web1.example.com ] && echo "$hosts" | grep -qP '^127\.0\.1\.1\tweb1\.example\.com web1$' &&
   [ "$res" = '{"old":"alpha","new":"web1.example.com"}' ]; then pass hostname
else fail hostname "hostname '$hn', hosts '$hosts', result $res"; fi

err=$(q "SELECT error FROM tasks")
if [ "$(q "SELECT status FROM tasks")" = failed ] &&
   echo "$err" | grep -q "step 4 (hostname, line 10): 'bad_name!' is not a valid host name"; then
  pass hostname-invalid
else fail hostname-invalid "$err"; fi
exit $rc
