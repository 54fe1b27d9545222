#!/usr/bin/env bash
# Start the web server and the Huey worker together; Ctrl-C stops both.
set -euo pipefail
export DJANGO_SETTINGS_MODULE=zhengtong.settings.dev
PY=${PY:-.venv/bin/python}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}

"$PY" manage.py run_huey --workers 2 --flush-locks &
worker=$!
"$PY" manage.py runserver "$HOST:$PORT" --noreload &
web=$!
stop() { kill "$web" "$worker" 2>/dev/null || true; wait 2>/dev/null || true; }
trap stop INT TERM EXIT

cat <<MSG

  政通协同办公平台 is starting at http://$HOST:$PORT/
  Demo accounts (password Demo@2026):
    sysadmin / secadmin / auditor      三员: 系统管理员 / 安全保密管理员 / 安全审计员
    bgs.keyuan   科员, 市政府办公室秘书科      bgs.zhuren  主任, 市政府办公室
    fushizhang   分管副市长                   shizhang    市长
    bgs.sfy      收发员, 市政府办公室          xian1.sfy   收发员, 县政府办公室
    jyj.sfy / jyj.juzhang   收发员 / 局长, 市教育局
  Press Ctrl-C to stop.

MSG
wait -n "$web" "$worker"
