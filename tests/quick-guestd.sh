#!/bin/bash
# tests/quick-guestd.sh: guestd's protocol tests on the host, no VM
# (guestd/test/client: file calls against a temp sysroot, errors,
# transfers, cancels, garbage and lying lengths over a socketpair).
cd "$(dirname "$0")/.." || exit 1
out=$(guestd/test/client guestd/guestd 2>&1); rc=$?
if [ $rc = 0 ] && echo "$out" | grep -q ': 0 failure(s)'; then
  echo "PASS: guestd-protocol-host"
else
  echo "FAIL: guestd-protocol-host: exit $rc: $(echo "$out" | grep -m5 FAIL)"
fi
