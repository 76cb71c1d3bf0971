/**
 * The status page (package `status`, for admins of / only): this server,
 * every peer link, the spool per peer, recent warnings and errors, web
 * sessions. It renders whole on the server, then its one inline script
 * (allowed by this response's CSP nonce, nothing else is) fetches
 * `data.json` every STATUS_REFRESH_MS and renders the same view again with
 * the same function (status-view.ts), without reloading the page.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { escapeHtml } from '../../../html';
import { scriptNonce, sendPage } from '../../../page-layout';
import type { RequestEnv } from '../../../request-env';
import { renderStatusView } from '../status-view';

/** How often the page asks for fresh data: often enough to watch a link come back, rarely enough to cost nothing. */
export const STATUS_REFRESH_MS = 3_000;

/**
 * Refreshes `#status-view`, counting refreshes in its `data-refreshes`
 * (tests wait on it). X-Requested-With makes an expired session a 403, not
 * a redirect to the login page's HTML.
 */
const CLIENT_SCRIPT = `(function () {
  const render = ${renderStatusView.toString()};
  const view = document.getElementById('status-view');
  const stamp = document.getElementById('refreshed');
  async function refresh() {
    try {
      const r = await fetch('data.json', { cache: 'no-store', credentials: 'same-origin', headers: { 'X-Requested-With': 'XMLHttpRequest' } });
      if (!r.ok) throw new Error(r.status === 403 ? 'not allowed (logged out?)' : 'HTTP ' + r.status);
      const data = await r.json();
      view.innerHTML = render(data);
      view.dataset.refreshes = String(Number(view.dataset.refreshes) + 1);
      stamp.textContent = 'As of ' + new Date(data.generatedAt).toLocaleTimeString() + '.';
    } catch (err) {
      stamp.textContent = 'Refresh failed: ' + err.message + '. Retrying.';
    }
  }
  setInterval(refresh, ${STATUS_REFRESH_MS});
})();`;

export default function statusPage(_req: IncomingMessage, res: ServerResponse, env: RequestEnv): void {
  const data = env.server.status();
  const main = `<h1>Status of ${escapeHtml(data.host.lonid)}</h1>
<p class="hint">Refreshed every ${STATUS_REFRESH_MS / 1000} seconds. <span id="refreshed">As of ${escapeHtml(data.generatedAt.slice(11, 19))} UTC.</span></p>
<div id="status-view" data-refreshes="0">
${renderStatusView(data)}
</div>`;
  sendPage(res, 200, { title: `Status of ${data.host.lonid}`, main, script: { nonce: scriptNonce(), code: CLIENT_SCRIPT } });
}
