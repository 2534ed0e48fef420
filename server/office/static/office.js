// posaid head office: small enhancements; every page works without this file.
// - A button or form with data-confirm asks before it sends.
// - A download link with data-preparing says the download is being prepared (a large export
//   takes a while before its first byte, and the browser shows nothing until then).

document.addEventListener('click', (event) => {
  const button = event.target.closest('[data-confirm]');
  if (button && !window.confirm(button.dataset.confirm)) event.preventDefault();
  const download = event.target.closest('a[data-preparing]');
  const status = document.getElementById('preparing');
  if (download && status) status.textContent = download.dataset.preparing;
});

// The home page refreshes itself when records or alerts arrive: the server says so over
// server-sent events (/office/live), and the page's live part is fetched again and swapped in,
// at most every few seconds. Without JavaScript (or EventSource) the page still reads; reload it.
const live = document.querySelector('[data-live]');
if (live && 'EventSource' in window) {
  const status = document.getElementById('live-status');
  let waiting = null;
  const refresh = async () => {
    waiting = null;
    try {
      const response = await fetch(window.location.href, { headers: { Accept: 'text/html' }, credentials: 'same-origin' });
      if (!response.ok) return;
      const page = new DOMParser().parseFromString(await response.text(), 'text/html');
      const fresh = page.querySelector('[data-live]');
      if (fresh) live.replaceChildren(...fresh.childNodes);
      if (status) status.textContent = `${status.dataset.updated} ${new Date().toLocaleTimeString()}`;
    } catch (error) {
      // offline for a moment: the next event tries again
    }
  };
  const source = new EventSource('/office/live');
  const soon = () => { if (!waiting) waiting = window.setTimeout(refresh, 2000); };
  source.addEventListener('records', soon);
  source.addEventListener('alert', soon);
  window.addEventListener('pagehide', () => source.close());
}
