#!/usr/bin/env bash
# Quick start: installs what is missing, builds, initializes the embedded SQLite store on first
# run, prints the admin credentials and a ready-to-paste curl, then serves on 127.0.0.1:8080.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh build
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target tollgate
mkdir -p .tollgate
chmod 700 .tollgate
store=sqlite:.tollgate/tollgate.db
if [ ! -s .tollgate/admin.json ]; then
  (umask 077 && build/tollgate init --store "$store" > .tollgate/admin.json.tmp)
  mv .tollgate/admin.json.tmp .tollgate/admin.json
fi
python3 - <<'PY'
import base64, json
a = json.load(open(".tollgate/admin.json"))
basic = base64.b64encode(f"{a['clientId']}:{a['clientSecret']}".encode()).decode()
print(f"""
Tollgate admin (kept in .tollgate/admin.json, mode 0600):
  environment ID : {a['environmentId']}
  client ID      : {a['clientId']}
  client secret  : {a['clientSecret']}
  token endpoint : {a['tokenEndpoint']}

Get a token:
  curl --location --globoff '{a['tokenEndpoint']}' \\
    --header 'Content-Type: application/x-www-form-urlencoded' \\
    --header 'Authorization: Basic {basic}' \\
    --data-urlencode 'grant_type=client_credentials'

Admin console (sign in with the three values above):
  {a['tokenEndpoint'].split('/' + a['environmentId'] + '/')[0]}/console/
""", flush=True)
PY
exec build/tollgate serve --store "$store"
