#!/usr/bin/env bash
# Start the web server and the Huey worker together; Ctrl-C stops both.
set -euo pipefail
export DJANGO_SETTINGS_MODULE=zhengtong.settings.dev
PY=${PY:-.venv/bin/python}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}

# a task still running at Ctrl-C gets 5 s to finish (Huey's graceful stop would otherwise wait for it forever)
"$PY" manage.py run_huey --workers 2 --flush-locks --shutdown-timeout 5 &
worker=$!
"$PY" manage.py runserver "$HOST:$PORT" --noreload &
web=$!
# Background jobs of a script ignore SIGINT, so both are stopped here: TERM, then KILL whatever is still
# running after 10 s, so Ctrl-C always gives the terminal back.
stop() {
  trap - INT TERM EXIT
  kill -TERM "$web" "$worker" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$web" 2>/dev/null || kill -0 "$worker" 2>/dev/null || break
    sleep 0.2
  done
  kill -KILL "$web" "$worker" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

cat <<MSG

  政通协同办公平台 is starting at http://$HOST:$PORT/
  Demo accounts (password Demo@2026, no second factor):
    sysadmin / secadmin / auditor   三员: 系统管理员 / 安全保密管理员 / 安全审计员
    shizhang     林国栋  市长, 示范市人民政府
    fushizhang   陈志远  副市长, 示范市人民政府
    bgs.zhuren   王建华  主任, 市政府办公室
    bgs.keyuan   李晓雯  科员, 市政府办公室秘书科
    bgs.sfy      赵静    收发员, 市政府办公室
    jyj.juzhang  周明辉  局长, 市教育局
    jyj.sfy      孙丽娟  收发员, 市教育局
    xian1.sfy    吴海燕  收发员, 青川县人民政府办公室
  Press Ctrl-C to stop.

MSG
wait -n "$web" "$worker"
