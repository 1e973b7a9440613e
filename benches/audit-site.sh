#!/usr/bin/env bash
# Whole-process benchmark of `promoscan audit` (issue 5): a generated site of N pages
# (default 5000) served on 127.0.0.1 by Python's threaded http.server, audited with
# JSONL output to /dev/null. Prints wall time, pages per second and peak RSS, and the
# same for lychee checking the same pages' links when lychee is installed (skipped with
# a message otherwise). Nothing leaves the machine: the one affiliate host the pages
# link to is pinned to 127.0.0.1 with --resolve.
#
#   bash benches/audit-site.sh [PAGES]
set -euo pipefail
cd "$(dirname "$0")/.."
pages="${1:-5000}"
site="target/audit-bench-site-${pages}"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

cargo build --release --quiet
if [ ! -f "${site}/index.html" ]; then
    python3 - "${site}" "${pages}" <<'PY'
import os, random, sys
site, pages = sys.argv[1], int(sys.argv[2])
random.seed(7)
os.makedirs(os.path.join(site, "p"), exist_ok=True)
filler = " ".join("Our team tested the battery, the screen and the camera for two weeks." for _ in range(20))
def page(number):
    links = [(number + 1) % pages, (number * 7 + 3) % pages] + [random.randrange(pages) for _ in range(8)]
    parts = [f"<html><head><title>Review {number}</title></head><body><h1>Review {number}</h1>"]
    parts.append(f"<p>{filler}</p>")
    parts += [f'<a href="/p/{link}.html">related {link}</a>' for link in links]
    if number % 50 == 0:
        parts.append('<p>As an affiliate we earn from qualifying purchases.</p>')
        parts.append(f'<a rel="sponsored" href="http://s.click.aliexpress.com:PORT/e/_DmBench{number % 7}">Buy</a>')
    if number % 97 == 0:
        parts.append("<p>Only 2 left in stock, order now!</p>")
    parts.append("</body></html>")
    return "\n".join(parts)
for number in range(pages):
    with open(os.path.join(site, "p", f"{number}.html"), "w") as out:
        out.write(page(number))
with open(os.path.join(site, "index.html"), "w") as out:
    out.write('<a href="/p/0.html">start</a>')
PY
fi
# The port is only known now: write it into the pages' affiliate links.
grep -rl 's.click.aliexpress.com:[0-9A-Z]*' "${site}/p" | xargs sed -i -E "s/s\.click\.aliexpress\.com:[0-9A-Z]+/s.click.aliexpress.com:${port}/"

python3 -m http.server "${port}" --bind 127.0.0.1 --directory "${site}" >/dev/null 2>&1 &
server=$!
trap 'kill ${server} 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:${port}/index.html')" 2>/dev/null; then break; fi
    sleep 0.1
done

measure() {
    local name="$1"; shift
    local log; log="$(mktemp)"
    local start end
    start="$(date +%s.%N)"
    /usr/bin/time -f '%M' -o "${log}" "$@" >/dev/null 2>&1 || true
    end="$(date +%s.%N)"
    local rss_kib; rss_kib="$(tail -n 1 "${log}")"
    python3 - "${name}" "${start}" "${end}" "${rss_kib}" "${pages}" <<'PY'
import sys
name, start, end, rss, pages = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
wall = end - start
print(f"{name:10} {wall:7.2f} s  {pages / wall:8.1f} pages/s  peak RSS {rss / 1024:6.1f} MiB")
PY
    rm -f "${log}"
}

echo "site: ${pages} pages on 127.0.0.1:${port} (python3 http.server)"
measure promoscan target/release/promoscan audit "http://127.0.0.1:${port}/index.html" \
    --format jsonl --output /dev/null --max-pages "$((pages + 10))" \
    --host-rate 100000 --per-host 16 --concurrency 16 \
    --resolve "s.click.aliexpress.com:127.0.0.1"
if command -v lychee >/dev/null 2>&1; then
    measure lychee lychee --no-progress --max-concurrency 16 \
        --base "http://127.0.0.1:${port}/" "${site}/p"
else
    echo "lychee     not installed: skipped (cargo install lychee to compare)"
fi
