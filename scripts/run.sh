#!/usr/bin/env bash
# Installs what is missing, builds, prepares a data directory with the demo
# knowledge base and starts Switchboard in the foreground.
#   SWITCHBOARD_PORT (default 8080), SWITCHBOARD_DATA (default ./data)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
# The server only: tests need packages that run.sh does not install.
scripts/build.sh build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSB_TESTS=OFF

data=${SWITCHBOARD_DATA:-$PWD/data}
port=${SWITCHBOARD_PORT:-8080}
mkdir -p "$data"
# Re-importing is idempotent: unchanged articles stay as they are.
build/switchboard kb import kb/demo --data "$data"

# First run: a demo admin with a random password, kept (mode 600) beside the
# data so a later run can say where it is.
admin_file="$data/demo-admin.txt"
admin_note="Demo admin: see $admin_file"
if [ ! -f "$admin_file" ]; then
  admin_pass=$(head -c 18 /dev/urandom | base64 | tr -d '/+=' | head -c 20)
  if echo "$admin_pass" | build/switchboard user add --data "$data" \
       --email admin@pinecone.example --name "Demo Admin" --role admin --role agent >/dev/null; then
    (umask 077; printf 'email: admin@pinecone.example\npassword: %s\n' "$admin_pass" >"$admin_file")
    admin_note="Demo admin created: admin@pinecone.example / $admin_pass  (also in $admin_file)"
  fi
fi

# The demo admin also answers hand-offs in the agent console: a member of the
# default team (set once, like the site below, so an admin's changes stay).
if [ -n "${admin_pass:-}" ]; then
  build/switchboard agent set admin@pinecone.example --team default --data "$data" >/dev/null || true
fi

base="http://127.0.0.1:$port"
# The demo shop at / carries the widget for the site "demo", which may run on
# this server's own URL; its proactive rule offers help on the checkout page.
# Created once: later runs keep whatever an admin changed.
sites=$(build/switchboard site list --data "$data")
if ! grep -q '"id": "demo"' <<<"$sites"; then
  demo_json=$(mktemp)
  cat >"$demo_json" <<JSON
{"name": "Demo shop", "origins": ["$base"], "title": "Pinecone Support",
 "greeting": {"en": "Hi! Ask me anything about your order.",
              "pt-BR": "Olá! Pergunte o que quiser sobre o seu pedido.",
              "ro": "Bună! Întrebați-mă orice despre comanda dumneavoastră."},
 "proactive": [{"url": "*/demo/checkout*", "after_s": 20,
                "message": {"en": "Need help with checkout?",
                            "pt-BR": "Precisa de ajuda para finalizar a compra?",
                            "ro": "Aveți nevoie de ajutor la finalizarea comenzii?"},
                "article": "payment-methods"}]}
JSON
  build/switchboard site set demo "$demo_json" --data "$data" >/dev/null
  rm -f "$demo_json"
fi

cat <<MSG

Switchboard is starting on $base
  Demo shop      $base/                      (the chat widget, site "demo")
  Help center    $base/help                  (en, pt-BR, ro; chosen from your browser's language)
  KB editor      $base/editor/               (sign in as the demo admin below)
  Agent console  $base/console/              (the demo admin; go online, then ask the widget for a person)
  Customer API   $base/api/v1/conversations  (see docs/api.md)
  Health         $base/healthz
  Metrics        $base/metrics
  Staff sign-in  POST $base/api/v1/auth/login  {"email","password"}
$admin_note
Data directory: $data     Stop with Ctrl-C.

Try it: open $base/ and click the chat button, or
  curl -s -X POST $base/api/v1/conversations -d '{"locale":"en"}'
Embed the widget elsewhere: <script src="$base/widget.js" data-site="demo" async></script>
  (add that page's origin first: switchboard site set demo FILE.json --data $data)
MSG
exec build/switchboard serve --port "$port" --data "$data" --plugins plugins --web web
