#!/usr/bin/env bash
# The layers of the server and the one direction of their dependencies
# (docs/architecture.md). A file may use its own folder and the folders of
# a lower rank, never one of its own rank or higher, so no two folders
# depend on each other. Checked twice:
#  - includes: the header a file includes belongs to a lower layer (the
#    public headers of include/ belong to the layer that implements them);
#  - symbols, given a build directory: every function or variable an
#    object of sbcore uses from another folder is defined in a lower layer
#    (a declaration can be written anywhere; a call shows the dependency).
# Usage: scripts/check-layers.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
python3 - "$@" <<'PY'
import collections, glob, os, re, subprocess, sys

rank = {
    'base': 0, 'core/store': 1, 'kb': 2, 'core/lua': 3, 'core/auth': 3, 'kb/eval': 3,
    'core/conv': 4, 'core/agents': 5, 'core/inbound': 6, 'core/channels': 7, 'core/http': 8,
    'core/help': 9, 'core/api': 9, 'core/server': 10, 'core/cli': 11,
}
public = {  # include/<name> -> the layer that implements it
    'sb.h': 'base', 'sb_util.h': 'base', 'sb_log.h': 'base', 'sb_re.h': 'base',
    'sb_config.h': 'base', 'sb_store.h': 'core/store', 'sb_kb.h': 'kb',
}
home = dict(public)
for layer in rank:
    for f in os.listdir(layer):
        if f.endswith('.h'):
            home[f] = layer
bad = 0

def complain(msg):
    global bad
    print(msg)
    bad += 1

inc = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
for layer in rank:
    for f in sorted(os.listdir(layer)):
        if not f.endswith(('.c', '.h')):
            continue
        path = os.path.join(layer, f)
        for h in inc.findall(open(path, encoding='utf-8').read()):
            to = home.get(os.path.basename(h))
            if to is not None and to != layer and rank[to] >= rank[layer]:
                complain(f'{path}: includes {h} ({to})')

if len(sys.argv) > 1:
    objs = glob.glob(os.path.join(sys.argv[1], 'CMakeFiles', 'sb*.dir', '**', '*.c.o'),
                     recursive=True)
    defined, used = {}, collections.defaultdict(set)
    for o in objs:
        src = re.sub(r'^.*/CMakeFiles/sb\w*\.dir/', '', o)[:-2]
        layer = os.path.dirname(src)
        if layer not in rank or not os.path.exists(src):
            continue  # a stale object of a file that moved
        out = subprocess.run(['nm', o], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in 'TDBRC':
                defined[parts[2]] = src
            elif len(parts) == 2 and parts[0] == 'U':
                used[src].add(parts[1])
    if not objs:
        complain(f'check-layers: no objects under {sys.argv[1]}; build first')
    for src, syms in sorted(used.items()):
        for sym in sorted(syms):
            to = defined.get(sym)
            if to is None:
                continue
            a, b = os.path.dirname(src), os.path.dirname(to)
            if a != b and rank[b] >= rank[a]:
                complain(f'{src}: uses {sym} of {to}')
if bad:
    print(f'check-layers: {bad} dependencies point up or sideways')
    sys.exit(1)
print('check-layers: every dependency points down')
PY
