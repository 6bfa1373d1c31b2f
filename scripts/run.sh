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
       --email admin@pinecone.example --name "Demo Admin" --role admin >/dev/null; then
    (umask 077; printf 'email: admin@pinecone.example\npassword: %s\n' "$admin_pass" >"$admin_file")
    admin_note="Demo admin created: admin@pinecone.example / $admin_pass  (also in $admin_file)"
  fi
fi

base="http://127.0.0.1:$port"
cat <<MSG

Switchboard is starting on $base
  Landing page   $base/
  Help center    $base/help                  (en, pt-BR, ro; chosen from your browser's language)
  KB editor      $base/editor/               (sign in as the demo admin below)
  Customer API   $base/api/v1/conversations  (see docs/api.md)
  Health         $base/healthz
  Metrics        $base/metrics
  Staff sign-in  POST $base/api/v1/auth/login  {"email","password"}
$admin_note
Data directory: $data     Stop with Ctrl-C.

Try it:
  curl -s -X POST $base/api/v1/conversations -d '{"locale":"en"}'
MSG
exec build/switchboard serve --port "$port" --data "$data" --plugins plugins --web web
