/**
 * Reading an `application/x-www-form-urlencoded` request body, for pages
 * that take POSTed forms. The size limit is checked while reading: an
 * oversized body is read to its end (bounded by the server's request
 * timeout) but not kept, so the connection stays usable for the 413 answer.
 */
import type { IncomingMessage } from 'node:http';

export type FormBody =
  | { readonly ok: true; readonly fields: URLSearchParams }
  | { readonly ok: false; readonly status: 413 | 415 };

export async function readFormBody(req: IncomingMessage, maxBytes: number): Promise<FormBody> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return { ok: false, status: 415 };
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) return { ok: false, status: 413 };
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total <= maxBytes) chunks.push(chunk);
  }
  if (total > maxBytes) return { ok: false, status: 413 };
  return { ok: true, fields: new URLSearchParams(Buffer.concat(chunks).toString('utf8')) };
}
