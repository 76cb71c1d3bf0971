/**
 * The status page's body, from its data (`StatusPageData`): this server,
 * its peer links, the spool per peer, recent problems, the web side.
 *
 * One renderer serves both ends: the page renders it on the server (so the
 * page is whole without scripts), and the page's script runs the very same
 * function in the browser on every refresh from `data.json`. So it must stay
 * self-contained: no imports, no helpers from outside its body (the script
 * embeds it with `Function.prototype.toString`). Every value is escaped.
 * It lives outside `www/`, so it is never served as a page.
 */
import type { StatusPageData } from '../../server-report';

export function renderStatusView(data: StatusPageData): string {
  const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
  const esc = (v: unknown): string => String(v).replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
  const now = Date.parse(data.generatedAt);
  const age = (ms: number | null): string => {
    if (ms === null) return '—';
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 120) return `${s} s`;
    const m = Math.round(s / 60);
    if (m < 120) return `${m} min`;
    const h = Math.round(m / 60);
    return h < 48 ? `${h} h` : `${Math.round(h / 24)} d`;
  };
  const ago = (iso: string): string => `${age(now - Date.parse(iso))} ago`;
  /** Cells are HTML already escaped; columns listed in `numeric` align right. */
  const table = (id: string, head: string[], rows: string[][], numeric: number[]): string => {
    const th = head.map((h, i) => `<th${numeric.includes(i) ? ' class="num"' : ''}>${h}</th>`).join('');
    const trs = rows.map((r) => `<tr>${r.map((c, i) => `<td${numeric.includes(i) ? ' class="num"' : ''}>${c}</td>`).join('')}</tr>`);
    return `<table id="${id}"><thead><tr>${th}</tr></thead>\n<tbody>\n${trs.join('\n')}\n</tbody></table>`;
  };
  const { host, web } = data;
  const hostFacts = [
    ['Server', `${esc(host.lonid)} <span class="muted">(${esc(host.role)}, domain ${esc(host.domain)})</span>`],
    ['Host', `${esc(host.hostname)} <span class="muted">${esc(host.ip)}:${esc(host.port)}</span>`],
    ['Version', `loncapad ${esc(host.version)}, pid ${esc(host.pid)}`],
    ['Up for', esc(age(host.uptimeMs))],
    ['Web', `port ${esc(web.port)}, ${web.tls ? 'HTTPS' : 'plain HTTP'}, ${esc(web.requests)} requests`],
    ['Web sessions', `<span id="sessions">${esc(web.activeSessions)}</span> active`],
  ];
  const peers =
    data.peers.length === 0
      ? '<p id="peers" class="muted">The hosts table names no other server.</p>'
      : table(
          'peers',
          ['Peer', 'State', 'Since', 'RTT', 'In flight', 'Queue', 'Retries', 'Last error'],
          data.peers.map((p) => [
            esc(p.peer),
            `<span class="state-${esc(p.state)}">${esc(p.state)}</span>`,
            esc(ago(p.since)),
            p.rttMs === null ? '—' : `${esc(p.rttMs.toFixed(2))} ms`,
            esc(p.inFlight),
            esc(p.queue),
            esc(p.retries),
            esc(p.lastError ?? ''),
          ]),
          [3, 4, 5, 6],
        );
  const spool =
    data.spool.length === 0
      ? '<p id="spool" class="muted">Nothing waits in the spool.</p>'
      : table(
          'spool',
          ['Peer', 'Waiting', 'Oldest', 'Set aside'],
          data.spool.map((s) => [esc(s.peer), esc(s.depth), esc(age(s.oldestAgeMs)), esc(s.aside)]),
          [1, 2, 3],
        );
  const problems =
    data.recentErrors.length === 0
      ? '<p id="errors" class="muted">No warnings or errors since the server started.</p>'
      : table(
          'errors',
          ['When', 'Level', 'What'],
          data.recentErrors.map((e) => [esc(ago(e.at)), `<span class="level-${esc(e.level)}">${esc(e.level)}</span>`, esc(e.text)]),
          [],
        );
  return `<h2>This server</h2>
<dl class="facts" id="host">${hostFacts.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl>
<h2>Peer links</h2>
${peers}
<h2>Spool</h2>
<p class="hint">Critical messages waiting for a peer that cannot be reached; they are replayed in order when it returns.
Set aside: refused or expired, waiting for an operator (<code>loncapad spool list</code>).</p>
${spool}
<h2>Recent problems</h2>
${problems}`;
}
