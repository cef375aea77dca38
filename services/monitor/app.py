"""Monitor service: a JSON API and a page over the settled totals in Redis."""
from __future__ import annotations

import redis

from isf.settlement.money import summary
from services.common.config import make_app, redis_url
from services.common.redis_store import read_counters, read_totals

app = make_app("isf-monitor")
_r = redis.Redis.from_url(redis_url())

PAGE = """<!doctype html><html lang="no"><head><meta charset="utf-8"><title>ISF Stream</title>
<style>body{font-family:sans-serif;margin:2em}pre{background:#f4f4f4;padding:1em}</style></head>
<body><h1>ISF Stream: ISF-poeng og NOK (points and money)</h1>
<p>Live counters, refreshed every 2 s.</p><pre id="c">loading</pre><pre id="s"></pre>
<script>
async function tick(){
  const c = await (await fetch('/api/counters')).json();
  document.getElementById('c').textContent = JSON.stringify(c, null, 1);
  const s = await (await fetch('/api/summary')).json();
  document.getElementById('s').textContent = JSON.stringify({nok: s.nok, points: s.points}, null, 1);
}
tick(); setInterval(tick, 2000);
</script></body></html>"""


@app.page("/")
async def index(web, request):
    return web.html(PAGE)


@app.page("/api/summary")
async def api_summary(web, request):
    return web.json(summary(read_totals(_r)))


@app.page("/api/counters")
async def api_counters(web, request):
    return web.json(read_counters(_r))


if __name__ == "__main__":
    app.main()
