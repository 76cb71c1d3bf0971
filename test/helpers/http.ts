/** Plain HTTP requests against a daemon's web processor (node:http, no client library). */
import { request, type Agent } from 'node:http';

export interface HttpReply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export interface HttpOptions {
  method?: string;
  cookie?: string;
  form?: Record<string, string>;
  headers?: Record<string, string>;
  /** Send from this local address (a client of its own, as far as the server can tell). */
  localAddress?: string;
  /** The request's deadline: past it, the promise rejects (the socket is destroyed). */
  timeoutMs?: number;
  /** A keep-alive agent: the request goes on a connection the server has already accepted. */
  agent?: Agent;
}

export function http(host: string, port: number, path: string, opts: HttpOptions = {}): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const body = opts.form ? new URLSearchParams(opts.form).toString() : undefined;
    const req = request(
      {
        host,
        port,
        path,
        ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
        ...(opts.agent ? { agent: opts.agent } : {}),
        method: opts.method ?? (body ? 'POST' : 'GET'),
        headers: {
          ...opts.headers,
          ...(opts.cookie ? { Cookie: opts.cookie } : {}),
          ...(body ? { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body) } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (s: string) => (text += s));
        res.on('error', reject);
        res.on('end', () => {
          clearTimeout(deadline);
          resolve({ status: res.statusCode!, headers: res.headers, body: text });
        });
      },
    );
    const deadline =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => req.destroy(new Error(`${path}: no answer within ${opts.timeoutMs} ms`)), opts.timeoutMs);
    req.on('error', (err) => {
      clearTimeout(deadline);
      reject(err);
    });
    req.end(body);
  });
}

/** The `name=value` pairs of Set-Cookie headers, joined for a Cookie header. */
export function cookiesOf(reply: HttpReply): string {
  const set = reply.headers['set-cookie'] ?? [];
  return (Array.isArray(set) ? set : [set]).map((c) => c.split(';')[0]!).join('; ');
}
