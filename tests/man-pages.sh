#!/bin/bash
# tests/man-pages.sh: the generated man pages (man/, schemas/generate-man.py).
#   - they are current: regenerating them changes nothing;
#   - each renders with `man -l' and with groff -ww without a warning;
#   - every call of the action table has its entry in guestfs(3), every
#     subcommand runner/main.c dispatches has its page (listed in
#     guestkit(1)), with every option of its --help, every section of
#     schemas/job-schema.md is in guestkit-jobs(5), and every variable of
#     README.md's Environment table in guestkit(1) and guestfs(3);
#   - the check can fail: a page edited by hand, a --help text, an action
#     table row and a dispatched subcommand that the pages do not have are
#     each caught, and named.
cd "$(dirname "$0")/.." || exit 1
G=runner/guestkit
out=$PWD/tests/out/man-pages-$$; mkdir -p "$out"; trap 'rm -rf "$out"' EXIT
fails=0
pass () { echo "PASS: $1"; }
fail () { echo "FAIL: $1: $2"; fails=$((fails + 1)); }
gen () { python3 schemas/generate-man.py "$@"; }

pages=$(gen --list .)
if gen --check . >"$out/check" 2>&1; then pass man-pages-current
else fail man-pages-current "$(cat "$out/check")"; fi

bad=
for p in $pages; do
  f=man/$p
  if [ ! -s "$f" ]; then bad="$bad $p(missing)"; continue; fi
  LC_ALL=C MANWIDTH=80 man --warnings -l "$f" >"$out/r" 2>"$out/w"
  if [ -s "$out/w" ] || [ "$(wc -l <"$out/r")" -lt 8 ]; then
    bad="$bad $p($(head -2 "$out/w" | tr '\n' ' '))"
  fi
  w=$(groff -man -ww -z "$f" 2>&1)
  [ -z "$w" ] || bad="$bad $p(groff: $(echo "$w" | head -2 | tr '\n' ' '))"
done
if [ -z "$bad" ]; then pass man-pages-render-clean
else fail man-pages-render-clean "$bad"; fi
# The same check sees a warning when there is one.
printf '.TH X 1\n.SH NAME\nx \\- y\n.SH DESCRIPTION\n.BOGUS\n\\fQx\n' >"$out/bad.1"
if LC_ALL=C MANWIDTH=80 man --warnings -l "$out/bad.1" 2>&1 >/dev/null | grep -q "BOGUS" &&
   groff -man -ww -z "$out/bad.1" 2>&1 | grep -q "font 'Q'"; then pass man-pages-render-check-sees-warnings
else fail man-pages-render-check-sees-warnings "no warning for an undefined macro or font"; fi

# The pages' text, roff escapes taken out (what a reader sees, unbroken).
norm () { sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\&//g' "man/$1"; }
entry () { norm guestfs.3 | awk -v h=".SS guestfs_$1" '$0 == h {p = 1; next} /^\.S[SH]/ {p = 0} p'; }

# Every row of the action table: one entry (.SS guestfs_NAME) each.
calls=$(grep -v '^#' schemas/actions.tsv | awk -F'\t' 'NF {print $1}')
missing=$(for c in $calls; do grep -qx ".SS guestfs_$c" man/guestfs.3 || echo "$c"; done)
n=$(echo "$calls" | wc -l); e=$(grep -c '^\.SS guestfs_' man/guestfs.3)
if [ -z "$missing" ] && [ "$n" = "$e" ]; then pass man-pages-every-call
else fail man-pages-every-call "$n calls, $e entries; missing: $(echo $missing | head -c 300)"; fi
entry () { awk -v h=".SS guestfs_$1" '$0 == h {p = 1; next} /^\.S[SH]/ {p = 0} p' "$out/api"; }
norm guestfs.3 >"$out/api"
if entry ls | grep -qF 'char **guestfs_ls (guestfs_h *g, const char *directory);' &&
   entry ls | grep -q 'frees each string and the array' &&
   entry ls | grep -q 'a launched handle' &&
   entry cat | grep -q 'returns NULL on error.*guestfs_last_error.*error handler' &&
   entry add_drive | grep -q 'not launched yet' &&
   entry statvfs | grep -q 'guestfs_free_statvfs' &&
   entry get_path | grep -q 'Not to be freed' &&
   entry add_drive_opts | grep -qF 'int guestfs_add_drive_opts (guestfs_h *g, const char *filename, ...);' &&
   grep -qF 'guestfs_set_error_handler (guestfs_h *g,' "$out/api"; then
  pass man-pages-call-entries
else fail man-pages-call-entries "guestfs_ls/cat/add_drive/statvfs/get_path entries lack prototype, frees, errors or state"; fi

# Every subcommand main.c dispatches (read here on its own, not by the
# generator): a page, listed in guestkit(1), with each of its options.
cmds=$(sed -n 's/.*strcmp (argv\[1\], "\([a-z0-9-]*\)") == 0)$/\1/p' runner/main.c | tr '\n' ' ')
bad=
for c in $cmds; do
  case " $pages " in *" guestkit-$c.1 "*) ;; *) bad="$bad $c(no page)"; continue ;; esac
  norm guestkit.1 | grep -q "guestkit-$c(1)" || bad="$bad $c(not in guestkit(1))"
  norm "guestkit-$c.1" >"$out/page"
  { $G "$c" --help 2>&1; } | grep -oE -- '(^|[ ,])--?[a-zA-Z][-a-zA-Z]*' | sed 's/^[ ,]//' |
    sort -u >"$out/opts"
  lost=$(grep -oF -f "$out/opts" "$out/page" | sort -u | comm -23 "$out/opts" -)
  [ -z "$lost" ] || bad="$bad $c($(echo $lost))"
done
for s in test-tool run report shell inspect cache steps merge; do
  case " $cmds " in *" $s "*) ;; *) bad="$bad $s(not dispatched?)" ;; esac
done
if [ -z "$bad" ]; then pass man-pages-every-subcommand
else fail man-pages-every-subcommand "commands: $cmds; missing:$bad"; fi

# guestkit-jobs(5): every ## section of the markdown, the examples as code.
bad=$(sed -n 's/^## //p' schemas/job-schema.md | tr -d '`' | tr a-z A-Z |
      while read -r h; do grep -qxF ".SH \"$h\"" man/guestkit-jobs.5 || echo "[$h]"; done)
if [ -z "$bad" ] && norm guestkit-jobs.5 | grep -q '^  - mount_ro: {device: /dev/sda1' &&
   norm guestkit-jobs.5 | grep -q '^save_as$'; then
  pass man-pages-jobs-sections
else fail man-pages-jobs-sections "missing: $bad"; fi

# ENVIRONMENT in guestkit(1) and guestfs(3): every variable of README.md's table.
vars=$(sed -n '/^## Environment/,/^## [^E]/p' README.md | grep -oE '\b(GUESTKIT|LIBGUESTFS)_[A-Z_]+' | sort -u)
bad=$(for v in $vars TMPDIR; do for p in guestkit.1 guestfs.3; do
        norm $p | sed -n '/^\.SH "ENVIRONMENT"/,/^\.SH/p' | grep -q "$v" || echo "$p:$v"; done; done)
if [ "$(echo "$vars" | wc -w)" -gt 10 ] && [ -z "$bad" ]; then pass man-pages-environment
else fail man-pages-environment "missing: $(echo $bad)"; fi

# The check can fail.  1: a page edited by hand.
mkdir -p "$out/man"; cp man/*.[135] "$out/man/"
sed -i '/retries of a task/d' "$out/man/guestkit-run.1"
if ! gen --check --out "$out/man" . >"$out/c1" 2>&1 && grep -q 'stale.*guestkit-run\.1' "$out/c1" &&
   ! grep -q 'guestkit-report' "$out/c1"; then pass man-pages-stale-page-caught
else fail man-pages-stale-page-caught "$(cat "$out/c1")"; fi
# 2: a --help text that gained an option (a wrapper adds one).
printf '#!/bin/sh\nif [ "$1 $2" = "run --help" ]; then %s "$@"; echo "  --new-option       added"; exit 0; fi\nexec %s "$@"\n' \
  "$PWD/$G" "$PWD/$G" >"$out/gk"; chmod +x "$out/gk"
if ! gen --check --guestkit "$out/gk" . >"$out/c2" 2>&1 && grep -q 'stale.*guestkit-run\.1' "$out/c2"; then
  pass man-pages-stale-help-caught
else fail man-pages-stale-help-caught "$(cat "$out/c2")"; fi
# 3: a new row in the action table.
mkdir -p "$out/tree/schemas" "$out/tree/runner" "$out/tree/core/include"
cp core/include/guestfs.h "$out/tree/core/include/"
cp schemas/actions.tsv schemas/structs.tsv schemas/job-schema.md "$out/tree/schemas/"
cp runner/main.c "$out/tree/runner/"; cp README.md "$out/tree/"
printf 'man_test_call\tlib\tRErr\t-\t-\t*\tdone\thandle\ta call the test adds\n' >>"$out/tree/schemas/actions.tsv"
if ! gen --check --guestkit "$G" --out man "$out/tree" >"$out/c3" 2>&1 &&
   grep -q 'stale.*guestfs\.3' "$out/c3"; then pass man-pages-stale-table-caught
else fail man-pages-stale-table-caught "$(cat "$out/c3")"; fi
# 4: a subcommand dispatched but not in the pages (nor in --help).
sed -i 's|  if (strcmp (argv\[1\], "k8s") == 0)|  if (strcmp (argv[1], "newcmd") == 0)\n    return rn_cmd_k8s (argc - 1, argv + 1);\n&|' \
  "$out/tree/runner/main.c"
sed -i '$d' "$out/tree/schemas/actions.tsv"
if ! gen --check --guestkit "$G" --out man "$out/tree" >"$out/c4" 2>&1 && grep -q 'newcmd' "$out/c4"; then
  pass man-pages-new-subcommand-caught
else fail man-pages-new-subcommand-caught "$(cat "$out/c4")"; fi
[ $fails = 0 ]
