"""Budget: an offline start to the first guide under 1 s.

Installs the app, stops the server and takes the browser offline, stops the service worker (so
each start pays for waking it), then opens the T2 guide in a new page N times. Prints the median
time to the guide's load event, its ratio to the 1 s budget, and as the in-run reference the same
page loaded online from the server by a browser with no service worker.
"""

import statistics

from _browser import server_and_browser, wait_offline_ready

RUNS = 15
GUIDE = "/zh/codes/T2"
LOAD_MS = "() => { const [n] = performance.getEntriesByType('navigation'); return n.loadEventEnd - n.startTime; }"


def timed_loads(context, url, stop_workers=False) -> list[float]:
    times = []
    for _ in range(RUNS):
        page = context.new_page()
        if stop_workers:
            cdp = context.new_cdp_session(page)
            cdp.send("ServiceWorker.enable")
            cdp.send("ServiceWorker.stopAllWorkers")
        page.goto(url)
        page.wait_for_load_state("load")
        times.append(page.evaluate(LOAD_MS))
        page.close()
    return times


def main() -> None:
    with server_and_browser() as (server, browser):
        online = browser.new_context(service_workers="block")
        reference = timed_loads(online, server.url + GUIDE)
        online.close()

        context = browser.new_context(viewport={"width": 360, "height": 740})
        page = context.new_page()
        page.goto(server.url + "/zh")
        wait_offline_ready(page)
        server.stop()
        context.set_offline(True)
        offline = timed_loads(context, server.url + GUIDE, stop_workers=True)
        heading = page.goto(server.url + GUIDE) and page.locator("h1").inner_text()
        context.close()
    median, ref = statistics.median(offline), statistics.median(reference)
    print(f"offline start to the first guide ({heading!r}): median {median:.0f} ms over {RUNS} runs "
          f"(min {min(offline):.0f}, max {max(offline):.0f})")
    print(f"ratio to the 1 s budget: {median / 1000:.2f} (target < 1.00)")
    print(f"reference, online from the server without a service worker: median {ref:.0f} ms; "
          f"offline/online ratio {median / ref:.2f}")


if __name__ == "__main__":
    main()
