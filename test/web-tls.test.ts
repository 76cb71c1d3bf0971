/**
 * The web server over TLS, against a real daemon with a certificate made
 * here by openssl: HTTPS with HSTS on every response, a Secure session
 * cookie, the plain-HTTP listener that only redirects, and SIGHUP serving a
 * new certificate to new connections while open ones carry on. Without
 * openssl the test says so and skips.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import t from 'tap';
import { Lonnet } from '../lib';
import { loadConfig } from '../lib/config';
import { http } from './helpers/http';
import { makeNetwork, webPort } from './helpers/network';

const WEB_PORT = webPort(18720);
const REDIRECT_PORT = webPort(18721);
const IP = '127.0.72.2';
const HSTS = 'max-age=15552000';

const openssl = spawnSync('openssl', ['version'], { encoding: 'utf8' });
const NO_OPENSSL = openssl.error !== undefined || openssl.status !== 0 ? 'no openssl on this machine: install it (apt-get install openssl) to test TLS' : false;

/** A self-signed certificate for `ip` (P-256, one day), written as cert.pem and key.pem under `dir`. */
function makeCertificate(dir: string, name: string): { cert: string; key: string; fingerprint: string } {
  const cert = join(dir, `${name}-cert.pem`);
  const key = join(dir, `${name}-key.pem`);
  const r = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${IP}`,
      '-addext', `subjectAltName=IP:${IP}`, '-keyout', key, '-out', cert],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`openssl req failed: ${r.stderr}`);
  return { cert, key, fingerprint: new X509Certificate(readFileSync(cert)).fingerprint256 };
}

interface TlsReply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  /** SHA-256 fingerprint of the certificate the server presented. */
  readonly fingerprint: string;
}

function httpsRequest(path: string, opts: { agent?: Agent; form?: Record<string, string> } = {}): Promise<TlsReply> {
  return new Promise((resolve, reject) => {
    const body = opts.form ? new URLSearchParams(opts.form).toString() : undefined;
    const req = request(
      {
        host: IP,
        port: WEB_PORT,
        path,
        method: body ? 'POST' : 'GET',
        // Each test certificate is its own root: the fingerprint says which one was served.
        rejectUnauthorized: false,
        agent: opts.agent ?? false,
        headers: body ? { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body) } : {},
      },
      (res) => {
        const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (s: string) => (text += s));
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text, fingerprint }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

t.test('--tls-cert and --tls-key go together; the redirect port needs them', async (t) => {
  t.throws(() => loadConfig(['--tls-cert', '/x/cert.pem']), { code: 'LC_ERR_CONFIG', message: /--tls-cert and --tls-key go together/ });
  t.throws(() => loadConfig(['--http-redirect-port', '8081']), { code: 'LC_ERR_CONFIG', message: /needs --tls-cert and --tls-key/ });
  t.match(loadConfig(['--tls-cert', 'c.pem', '--tls-key', 'k.pem', '--http-redirect-port', '8081']), { httpRedirectPort: 8081 });
});

t.test('HTTPS, the redirect listener, and a certificate renewed by SIGHUP', { skip: NO_OPENSSL }, async (t) => {
  const net = await makeNetwork(t, [{ id: 'lib', ip: IP, role: 'library' }]);
  const first = makeCertificate(net.dir, 'first');
  const lib = await net.start('lib', [
    '--http-port', String(WEB_PORT),
    '--tls-cert', first.cert,
    '--tls-key', first.key,
    '--http-redirect-port', String(REDIRECT_PORT),
  ]);
  await lib.waitForLog(new RegExp(`web listening on ${IP.replace(/\./g, '\\.')}:${WEB_PORT} \\(https\\)`));
  const c = await lib.client();
  t.teardown(() => c.close());
  await new Lonnet(c).makeuser('lib', 'd1', 'amy', 'internal', 'amy pw');

  t.test('every response over HTTPS carries HSTS; the session cookie is Secure', async (t) => {
    const front = await httpsRequest('/');
    t.equal(front.status, 200);
    t.equal(front.fingerprint, first.fingerprint);
    t.equal(front.headers['strict-transport-security'], HSTS);
    t.match(front.body, '<h1>Server lib</h1>');
    for (const [path, status] of [['/missing', 404], ['/status/', 302], ['/login/loncapad.css', 200]] as const) {
      const r = await httpsRequest(path);
      t.equal(r.status, status, path);
      t.equal(r.headers['strict-transport-security'], HSTS, `${path}: HSTS`);
      t.equal(r.headers['x-frame-options'], 'DENY', `${path}: and the other security headers`);
    }
    const login = await httpsRequest('/login/', { form: { user: 'amy', domain: 'd1', password: 'amy pw' } });
    t.equal(login.status, 302);
    t.match(login.headers['set-cookie']?.[0], /^lc_session=v2\.[^;]+; Path=\/; Max-Age=28800; HttpOnly; SameSite=Lax; Secure$/);
  });

  t.test('the plain-HTTP listener redirects to HTTPS and serves nothing', async (t) => {
    const get = await http(IP, REDIRECT_PORT, '/login/?return_url=%2Fx');
    t.equal(get.status, 301);
    t.equal(get.headers.location, `https://${IP}:${WEB_PORT}/login/?return_url=%2Fx`);
    t.equal(get.body, 'This server speaks HTTPS only.\n');
    t.equal(get.headers['x-frame-options'], 'DENY');
    t.equal(get.headers['strict-transport-security'], undefined, 'HSTS means nothing over plain HTTP');
    const post = await http(IP, REDIRECT_PORT, '/login/', { form: { user: 'amy', domain: 'd1', password: 'amy pw' } });
    t.equal(post.status, 308, 'a form is re-sent to HTTPS, not turned into a GET');
    t.equal(post.headers['set-cookie'], undefined, 'no login over plain HTTP');
    const named = await http(IP, REDIRECT_PORT, '/', { headers: { Host: `lms.example.edu:${REDIRECT_PORT}` } });
    t.equal(named.headers.location, `https://lms.example.edu:${WEB_PORT}/`, 'the host the client asked for');
    const forged = await http(IP, REDIRECT_PORT, '/', { headers: { Host: 'evil.example/"x' } });
    t.equal(forged.headers.location, `https://${IP}:${WEB_PORT}/`, 'not a host name: our own address');
  });

  t.test('SIGHUP serves a new certificate to new connections; open ones carry on', async (t) => {
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    t.teardown(() => keepAlive.destroy());
    t.equal((await httpsRequest('/', { agent: keepAlive })).fingerprint, first.fingerprint);
    const second = makeCertificate(net.dir, 'second');
    writeFileSync(first.cert, readFileSync(second.cert));
    writeFileSync(first.key, readFileSync(second.key));
    lib.proc.kill('SIGHUP');
    await lib.waitForLog(/web: web TLS certificate reloaded from /);
    const renewed = await httpsRequest('/');
    t.equal(renewed.status, 200);
    t.equal(renewed.fingerprint, second.fingerprint, 'a new connection gets the new certificate');
    t.not(renewed.fingerprint, first.fingerprint);
    const old = await httpsRequest('/', { agent: keepAlive });
    t.equal(old.status, 200, 'the connection opened before the reload is still served');
    t.equal(old.fingerprint, first.fingerprint);

    writeFileSync(first.cert, 'not a certificate\n');
    lib.proc.kill('SIGHUP');
    await lib.waitForLog(/error web: web TLS reload failed, keeping the running certificate/);
    t.equal((await httpsRequest('/')).fingerprint, second.fingerprint, 'a broken file: the running certificate stays');
  });
});
