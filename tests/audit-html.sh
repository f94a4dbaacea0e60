#!/bin/bash
# tests/audit-html.sh: the HTML fleet report in a real browser.  Chromium
# headless (Debian's chromium) loads the page written from the fixture
# database (tests/audit-fixture.sh) and dumps the DOM after its script
# ran; the checks read what it rendered:
#  - one table row per image, the failing findings counted, the charts
#  - the table sorts (FILE#sort=N runs the page's own sorting code)
#  - hostile guest strings (a host name <script>alert(1)</script>, an
#    <img onerror> in evidence, terminal escapes) are text, not elements:
#    the page's own script is the only script element, no img element
#  - a screenshot is made (kept in tests/out/audit-html.png for a look)
# Chromium runs in its own session and is stopped by its pid.
cd "$(dirname "$0")/.." || exit 1
. tests/audit-fixture.sh
gk=$PWD/runner/guestkit
out=$PWD/tests/out/audit-html-$$; mkdir -p "$out"
cpid=
trap '[ -n "$cpid" ] && kill -9 -- -"$cpid" 2>/dev/null; rm -rf "$out"' EXIT
rc=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; rc=1; }
chromium=$(command -v chromium || command -v chromium-browser)
if [ -z "$chromium" ]; then
  echo "chromium is not installed (make deps installs it)" >&2; exit 77
fi

# browser URL OUTFILE ARGS...: run chromium headless, at most 120 s.
browser() {
  local url=$1 dest=$2; shift 2
  setsid "$chromium" --headless --no-sandbox --disable-gpu --no-first-run \
    --user-data-dir="$out/profile" "$@" "$url" >"$dest" 2>"$out/chromium.err" &
  cpid=$!
  for _ in $(seq 1200); do kill -0 "$cpid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$cpid" 2>/dev/null; then kill -9 -- -"$cpid"; fi
  wait "$cpid"; local st=$?; cpid=
  return $st
}

# order DOM: the host names of #fleet's rows as rendered, '|'-separated.
order() {
  python3 - "$1" <<'PY' >"$out/sort.out" 2>&1
import re, sys
body = open(sys.argv[1]).read().split('<tbody>')[1].split('</tbody>')[0]
print('|'.join(re.sub('<[^>]*>', '', r.split('</td>')[2]) for r in body.split('</tr>')[:-1]))
PY
}

audit_fixture "$out/a.db" || exit 1
"$gk" report --db "$out/a.db" --run 1 --format html -o "$out/fleet.html" || exit 1
if ! browser "file://$out/fleet.html" "$out/dom.html" --dump-dom || [ ! -s "$out/dom.html" ]; then
  echo "chromium could not render a page: $(tail -2 "$out/chromium.err")" >&2; exit 77
fi

python3 - "$out/dom.html" <<'PY' >"$out/py.out" 2>&1
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    """Counts elements, rows of #fleet's body, and the text of the counters."""
    def __init__(s):
        super().__init__(); s.tags = {}; s.rows = 0; s.text = {}; s.cur = None
        s.fleet = s.body = False
    def handle_starttag(s, tag, a):
        a = dict(a); s.tags[tag] = s.tags.get(tag, 0) + 1
        s.fleet |= tag == 'table' and a.get('id') == 'fleet'
        s.body |= tag == 'tbody' and s.fleet
        s.rows += tag == 'tr' and s.body
        if a.get('id') in ('nfindings', 'nimages'): s.cur = a['id']; s.text[s.cur] = ''
        if tag == 'svg': s.tags['svg:' + a.get('id', '')] = 1
    def handle_endtag(s, tag):
        if tag == 'tbody': s.body = False
        if tag == 'table': s.fleet = False
        if tag == 'b': s.cur = None
    def handle_data(s, d):
        if s.cur: s.text[s.cur] += d
p = P(); p.feed(open(sys.argv[1]).read())
print('rows', p.rows)
print('nfindings', p.text.get('nfindings', '').strip())
print('nimages', p.text.get('nimages', '').strip())
print('scripts', p.tags.get('script', 0))
print('imgs', p.tags.get('img', 0))
print('charts', int('svg:chart-findings' in p.tags) + int('svg:chart-os' in p.tags))
PY
get() { sed -n "s/^$1 //p" "$out/py.out"; }
[ "$(get rows)" = 4 ] && [ "$(get nimages)" = 4 ] && pass html-rows || fail html-rows "$(cat "$out/py.out")"
[ "$(get nfindings)" = 3 ] && pass html-findings || fail html-findings "$(get nfindings)"
[ "$(get charts)" = 2 ] && pass html-charts || fail html-charts "$(get charts) charts"
if [ "$(get scripts)" = 1 ] && [ "$(get imgs)" = 0 ] && grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' "$out/dom.html" &&
   ! grep -q $'\033' "$out/dom.html"; then pass html-hostile-inert
else fail html-hostile-inert "$(get scripts) script and $(get imgs) img elements"; fi

# Sorting: column 2 is the host name (broken.img has none: '' first);
# ascending, then descending.
browser "file://$out/fleet.html#sort=2" "$out/dom2.html" --dump-dom
order "$out/dom2.html"
[ "$(cat "$out/sort.out")" = '|&lt;script&gt;alert(1)&lt;/script&gt;|db1|web1' ] && pass html-sort ||
  fail html-sort "order '$(cat "$out/sort.out")'"
browser "file://$out/fleet.html#sort=2-" "$out/dom3.html" --dump-dom
order "$out/dom3.html"
[ "$(cat "$out/sort.out")" = 'web1|db1|&lt;script&gt;alert(1)&lt;/script&gt;|' ] && pass html-sort-desc ||
  fail html-sort-desc "order '$(cat "$out/sort.out")'"

browser "file://$out/fleet.html" /dev/null --hide-scrollbars --window-size=1280,1400 \
  --screenshot="$out/shot.png"
if [ -s "$out/shot.png" ] && [ "$(head -c 8 "$out/shot.png" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ]; then
  cp "$out/shot.png" tests/out/audit-html.png; pass html-screenshot
else fail html-screenshot "no PNG: $(tail -2 "$out/chromium.err")"; fi
exit $rc
