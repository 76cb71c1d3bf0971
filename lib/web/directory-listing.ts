/**
 * A plain HTML listing of a pageroot directory that has no index file. Off
 * unless the operator turns it on (OpenACS's default too). Hidden names
 * (dotfiles, backups, page sources) are never listed.
 */
import { readdir } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { escapeHtml } from './html';
import { encodePath } from './normalize-url';
import { isHiddenName } from './pageroots';

export async function sendListing(res: ServerResponse, dir: string, url: string): Promise<void> {
  const entries = (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isFile() || e.isDirectory())
    .map((e) => (e.isDirectory() ? e.name + '/' : e.name));
  sendNamesListing(res, entries, url);
}

/** A listing of `names` (directories end in '/'); hidden names are left out. */
export function sendNamesListing(res: ServerResponse, names: readonly string[], url: string): void {
  const entries = names.filter((name) => !isHiddenName(name.endsWith('/') ? name.slice(0, -1) : name)).sort();
  const items = entries.map((name) => `<li><a href="${escapeHtml(encodePath(name))}">${escapeHtml(name)}</a></li>`);
  const title = escapeHtml(url);
  const body = `<!DOCTYPE html>\n<html><head><title>${title}</title></head><body><h1>${title}</h1>\n<ul>\n${items.join('\n')}\n</ul></body></html>\n`;
  res.writeHead(200, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-cache',
  });
  res.end(body); // node:http drops the body of a HEAD response itself
}
