#!/usr/bin/env python3
"""tests/quick-contract.py: the action table against the 2009 contract.

Every public call of schemas/api-contract.tsv (the contract's names,
numbers and types, committed in the tree; the 21 test0* binding tests
aside) must be in schemas/actions.tsv with the same
procedure number, return type and arguments, and must be `done`: a row
left `todo` has no handler and only a "not supported" answer.  Each done
daemon call must have its handler declared for guestd (the generated
guestd/actions-gen.h), so the daemon cannot link without it.
Prints PASS/FAIL/SKIP lines like the other tests.
"""
import os
import re
import sys

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
contract = os.path.join(top, "schemas", "api-contract.tsv")


def rows(path, ncols):
    out = {}
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        f = line.rstrip("\n").split("\t")
        out[f[0]] = f[:ncols]
    return out


if not os.path.exists(contract):
    print("FAIL: contract-table: %s not found" % contract)
    sys.exit(1)
ours = rows(os.path.join(top, "schemas", "actions.tsv"), 9)
theirs = {k: v for k, v in rows(contract, 4).items() if not k.startswith("test0")}
print("PASS: contract-table (251 calls)" if len(theirs) == 251
      else "FAIL: contract-table: %d calls in %s, the contract has 251" % (len(theirs), contract))
handlers = set(re.findall(r"\bdo_(\w+) \(", open(os.path.join(top, "guestd", "actions-gen.h")).read()))

missing = [n for n in theirs if n not in ours]
print(("FAIL: contract-calls-present: missing %s" % " ".join(missing[:20])) if missing
      else "PASS: contract-calls-present (%d calls)" % len(theirs))

def norm(args):
    # The C names of a few arguments get a trailing _ (C++ keywords).
    return " ".join(a.rstrip("_") for a in args.split())

bad = [n for n in theirs if n in ours and
       (ours[n][1] != theirs[n][1] or ours[n][2] != theirs[n][2] or norm(ours[n][3]) != norm(theirs[n][3]))]
print(("FAIL: contract-signatures: differ for %s" % " ".join(bad[:20])) if bad
      else "PASS: contract-signatures")

todo = [n for n in theirs if n in ours and ours[n][6] != "done"]
print(("FAIL: contract-all-done: not supported yet: %s" % " ".join(todo[:30])) if todo
      else "PASS: contract-all-done")

nohandler = [n for n, r in ours.items() if r[1] != "lib" and r[6] == "done" and n not in handlers]
print(("FAIL: daemon-handlers-declared: %s" % " ".join(nohandler[:20])) if nohandler
      else "PASS: daemon-handlers-declared")
