"""Picks the inputs to commit from a fuzzing run, so that the committed corpus stays small.

Usage: pick_corpus.py CONTROL_FILE DEST CAP

CONTROL_FILE is libFuzzer's merge control file (-merge=1 -use_counters=0
-merge_control_file=...), which lists every input and the coverage edges it reached first
(libFuzzer runs them smallest first and credits each edge once). Every input already committed
(under fuzz/corpus/) is kept; then, greedily, the input credited with the most edges none of the
kept ones is copied to DEST, until CAP inputs are kept or no input adds an edge. Since an edge is
credited to one input only, the coverage printed is a lower bound. libFuzzer's own merge keeps
every input that adds any feature: thousands of files.
"""
import sys, os, shutil
mcf, dest, cap = sys.argv[1], sys.argv[2], int(sys.argv[3])
lines = open(mcf, errors="replace").read().split("\n")
n, first = int(lines[0]), int(lines[1])
files = lines[2:2 + n]
cov = {}
for l in lines[2 + n:]:
    p = l.split()
    if len(p) >= 2 and p[0] == "COV":
        cov[int(p[1])] = set(p[2:])
covered, keep = set(), []
seeds = [i for i, f in enumerate(files) if f.startswith("fuzz/corpus/")]
for i in seeds:
    keep.append(i); covered |= cov.get(i, set())
total = set().union(*cov.values()) if cov else set()
cand = {i: c for i, c in cov.items() if i not in seeds}
while len(keep) < cap and cand:
    i = max(cand, key=lambda k: (len(cand[k] - covered), -os.path.getsize(files[k])))
    gain = cand.pop(i) - covered
    if not gain:
        break
    keep.append(i); covered |= gain
for i in keep[len(seeds):]:
    shutil.copy(files[i], os.path.join(dest, os.path.basename(files[i])))
print(f"kept {len(keep)} inputs, covering at least {len(covered)} of the {len(total)} edges reached")
