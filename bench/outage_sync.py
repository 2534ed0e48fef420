"""Budget: after a long outage (500 events, 20 photos), sync needs about one request per batch
and per photo, and sends little more than the payload itself.

Enrolls a phone, records 500 events and 20 photos offline through the app's own outbox, goes
online and syncs once. Counts the requests and the bytes the phone sent, against the payload (the
events' JSON as sent and the photos' bytes) measured in the same run.
"""

import subprocess
import sys

from _browser import ROOT, server_and_browser, wait_offline_ready

EVENTS, PHOTOS = 500, 20

RECORD = """async ([events, photos]) => {
    const { record } = await import('/static/js/outbox.js');
    const { sha256Hex } = await import('/static/js/camera.js');
    const canvas = document.createElement('canvas');
    canvas.width = 1600; canvas.height = 1200;
    const g = canvas.getContext('2d');
    const shots = [];
    for (let i = 0; i < photos; i++) {
        // A photo-like picture: gradients and noise, so JPEG sizes are realistic.
        const grad = g.createLinearGradient(0, 0, 1600, 1200);
        grad.addColorStop(0, `hsl(${i * 17}, 60%, 40%)`); grad.addColorStop(1, `hsl(${i * 17 + 90}, 50%, 70%)`);
        g.fillStyle = grad; g.fillRect(0, 0, 1600, 1200);
        for (let k = 0; k < 4000; k++) { g.fillStyle = `rgba(${k % 255},${(k * 7) % 255},${(k * 13) % 255},0.5)`; g.fillRect((k * 37 + i * 11) % 1600, (k * 91) % 1200, 6, 6); }
        const blob = await new Promise((r) => canvas.toBlob(r, 'image/jpeg', 0.8));
        shots.push({ sha: await sha256Hex(blob), blob, type: blob.type, size: blob.size });
    }
    const opened = [];
    for (let i = 0; i < photos; i++) {
        opened.push(await record('incident.opened', { code: 'T2', terminal: 'Till ' + (i % 3), occurred_at: new Date().toISOString(), note: 'outage ' + i }, 'Bench', [shots[i]]));
    }
    for (let i = photos; i < events; i++) {
        const incident = opened[i % photos].id;
        await record('incident.step', { incident, flow: 't2', step: 'network', answer: 'not_fixed', note: '' }, 'Bench');
    }
    const { getAll } = await import('/static/js/db.js');
    const { wire } = await import('/static/js/outbox.js');
    const all = await getAll('events');
    return { eventBytes: new TextEncoder().encode(JSON.stringify({ events: all.map(wire) })).length,
             photoBytes: shots.reduce((n, s) => n + s.size, 0) };
}"""


def main() -> None:
    with server_and_browser() as (server, browser):
        cli = [sys.executable, "-m", "server"]
        shop = subprocess.run([*cli, "shops", "add", "Bench shop", "--data", str(server.data)],
                              cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        out = subprocess.run([*cli, "codes", "issue", shop, "--base", server.url, "--data", str(server.data)],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout
        url = next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("url: "))
        context = browser.new_context()
        page = context.new_page()
        page.goto(url)
        wait_offline_ready(page)
        page.get_by_label("这部手机的名称").fill("bench phone")
        page.get_by_role("button", name="绑定").click()
        page.get_by_text("已绑定").wait_for()
        context.set_offline(True)
        payload = page.evaluate(RECORD, [EVENTS, PHOTOS])

        requests = []
        context.on("requestfinished", lambda r: requests.append(r) if "/api/v1/" in r.url else None)
        context.set_offline(False)
        page.get_by_text("全部已同步").wait_for(timeout=120_000)
        page.wait_for_timeout(500)
        # Chromium reports no body size for a Blob body: its Content-Length says what was sent.
        sent = sum(int(r.all_headers().get("content-length") or r.sizes()["requestBodySize"])
                   + r.sizes()["requestHeadersSize"] for r in requests)
        by_kind = {}
        for r in requests:
            kind = f"{r.method} {r.url.split('/api/v1/')[1].split('/')[0]}"
            by_kind[kind] = by_kind.get(kind, 0) + 1
        context.close()

    batches = -(-EVENTS // 500)
    data = payload["eventBytes"] + payload["photoBytes"]
    print(f"outage: {EVENTS} events, {PHOTOS} photos ({payload['photoBytes'] / 1024:.0f} KB of photos, "
          f"{payload['eventBytes'] / 1024:.0f} KB of events JSON)")
    print(f"requests: {len(requests)} {dict(sorted(by_kind.items()))}; "
          f"per batch and photo: {len(requests) / (batches + PHOTOS):.2f} (target about 1)")
    print(f"bytes sent: {sent / 1024:.0f} KB for a {data / 1024:.0f} KB payload; ratio {sent / data:.3f} "
          f"(target a little over 1)")


if __name__ == "__main__":
    main()
