/** Plain HTTP requests against a daemon's web processor (node:http, no client library). */
import { request } from 'node:http';

export interface HttpReply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export function http(
  host: string,
  port: number,
  path: string,
  opts: { method?: string; cookie?: string; form?: Record<string, string>; headers?: Record<string, string> } = {},
): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const body = opts.form ? new URLSearchParams(opts.form).toString() : undefined;
    const req = request(
      {
        host,
        port,
        path,
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
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The `name=value` pairs of Set-Cookie headers, joined for a Cookie header. */
export function cookiesOf(reply: HttpReply): string {
  const set = reply.headers['set-cookie'] ?? [];
  return (Array.isArray(set) ? set : [set]).map((c) => c.split(';')[0]!).join('; ');
}
