#!/usr/bin/env bash
# The layers of the server and the one direction of their dependencies
# (docs/architecture.md). A file may include headers of its own folder and
# of folders of a lower rank, never of its own rank or higher: so no two
# folders depend on each other. include/ holds the public headers; each
# belongs to the layer that implements it.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 - "$@" <<'PY'
import os, re, sys
rank = {
    'base': 0, 'core/store': 1, 'kb': 2, 'core/lua': 3, 'core/auth': 3,
    'core/conv': 4, 'core/agents': 5, 'core/inbound': 6, 'core/http': 7,
    'core/help': 8, 'core/api': 8, 'core/server': 9, 'core/cli': 10,
}
public = {  # include/<name> -> the layer it belongs to
    'sb.h': 'base', 'sb_util.h': 'base', 'sb_log.h': 'base', 'sb_re.h': 'base',
    'sb_config.h': 'base', 'sb_store.h': 'core/store', 'sb_kb.h': 'kb',
}
home = {h: layer for h, layer in public.items()}
for layer in rank:
    for f in os.listdir(layer):
        if f.endswith('.h'):
            home[f] = layer
bad = 0
inc = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
for layer in rank:
    for f in sorted(os.listdir(layer)):
        if not f.endswith(('.c', '.h')):
            continue
        path = os.path.join(layer, f)
        for h in inc.findall(open(path, encoding='utf-8').read()):
            to = home.get(os.path.basename(h))
            if to is None or to == layer:
                continue
            if rank[to] >= rank[layer]:
                print(f'{path}: includes {h} ({to}, rank {rank[to]} >= {rank[layer]})')
                bad += 1
if bad:
    print(f'check-layers: {bad} include(s) point up or sideways')
    sys.exit(1)
PY
