/**
 * Static files through the request processor: content types, validators and
 * 304s, byte ranges, HEAD, and the streaming path for large files.
 */
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { startWeb, type WebHarness } from './fixtures/web/harness';
import { parseRange } from '../lib/web/static-file';
import { BODY_CACHE_MAX_FILE_BYTES } from '../lib/web/body-cache';

const HOST = '127.0.4.4';
const TEXT = 'The quick brown fox jumps over the lazy dog.\n';
const LARGE = randomBytes(BODY_CACHE_MAX_FILE_BYTES + 12345);

async function site(t: tap.Test): Promise<WebHarness> {
  return startWeb(t, HOST, {
    keys: {},
    site: { www: { 'fox.txt': TEXT, 'large.bin': LARGE, 'empty.txt': '', 'blob.unknownext': 'x', 'noext': 'y' } },
  });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

t.test('parseRange', async (t) => {
  t.same(parseRange('bytes=0-4', 10), { start: 0, end: 4 });
  t.same(parseRange('bytes=5-', 10), { start: 5, end: 9 });
  t.same(parseRange('bytes=-3', 10), { start: 7, end: 9 });
  t.same(parseRange('bytes=-30', 10), { start: 0, end: 9 });
  t.same(parseRange('bytes=8-100', 10), { start: 8, end: 9 });
  t.equal(parseRange('bytes=10-', 10), 'unsatisfiable');
  t.equal(parseRange('bytes=-0', 10), 'unsatisfiable');
  t.equal(parseRange('bytes=0-', 0), 'unsatisfiable');
  for (const ignored of ['bytes=0-1,3-4', 'bytes=5-2', 'items=0-1', 'bytes=-', 'bytes=a-b']) {
    t.equal(parseRange(ignored, 10), 'ignore', ignored);
  }
});

t.test('a full GET with type, length and validators', async (t) => {
  const h = await site(t);
  const r = await h.get('/fox.txt');
  t.equal(r.status, 200);
  t.equal(r.body, TEXT);
  t.match(r.headers, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': String(TEXT.length),
    'accept-ranges': 'bytes',
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    etag: /^"[0-9a-z]+-[0-9a-z]+-[0-9a-z]+"$/,
    'last-modified': /GMT$/,
  });
  t.equal((await h.get('/blob.unknownext')).headers['content-type'], 'application/octet-stream');
  t.equal((await h.get('/noext')).body, 'y', 'an extension-less file is served as itself');
  const empty = await h.get('/empty.txt');
  t.equal(empty.status, 200);
  t.equal(empty.headers['content-length'], '0');
});

t.test('conditional requests answer 304', async (t) => {
  const h = await site(t);
  const first = await h.get('/fox.txt');
  const etag = first.headers.etag!;
  const lastModified = first.headers['last-modified']!;
  for (const inm of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
    const r = await h.get('/fox.txt', { 'If-None-Match': inm });
    t.equal(r.status, 304, inm);
    t.equal(r.body, '');
    t.equal(r.headers.etag, etag);
  }
  t.equal((await h.get('/fox.txt', { 'If-None-Match': '"other"' })).status, 200);
  t.equal((await h.get('/fox.txt', { 'If-Modified-Since': lastModified })).status, 304);
  t.equal((await h.get('/fox.txt', { 'If-Modified-Since': 'Thu, 01 Jan 1970 00:00:00 GMT' })).status, 200);
  t.equal(
    (await h.get('/fox.txt', { 'If-None-Match': '"other"', 'If-Modified-Since': lastModified })).status,
    200,
    'If-None-Match decides when both are sent',
  );
});

t.test('byte ranges: 206, 416, If-Range', async (t) => {
  const h = await site(t);
  const { etag } = (await h.get('/fox.txt')).headers;
  const part = await h.get('/fox.txt', { Range: 'bytes=4-8' });
  t.equal(part.status, 206);
  t.equal(part.body, 'quick');
  t.equal(part.headers['content-range'], `bytes 4-8/${TEXT.length}`);
  t.equal(part.headers['content-length'], '5');
  t.equal((await h.get('/fox.txt', { Range: 'bytes=-5' })).body, 'dog.\n');
  const beyond = await h.get('/fox.txt', { Range: 'bytes=1000-' });
  t.equal(beyond.status, 416);
  t.equal(beyond.headers['content-range'], `bytes */${TEXT.length}`);
  t.equal(beyond.body, '');
  t.equal((await h.get('/fox.txt', { Range: 'bytes=0-1,4-5' })).status, 200, 'several ranges: the whole file');
  t.equal((await h.get('/fox.txt', { Range: 'bytes=0-2', 'If-Range': etag! })).status, 206);
  t.equal((await h.get('/fox.txt', { Range: 'bytes=0-2', 'If-Range': '"stale"' })).status, 200);
});

t.test('HEAD sends the headers of GET without a body', async (t) => {
  const h = await site(t);
  const head = await h.request('/fox.txt', { method: 'HEAD' });
  t.equal(head.status, 200);
  t.equal(head.headers['content-length'], String(TEXT.length));
  t.equal(head.body, '');
  const ranged = await h.request('/fox.txt', { method: 'HEAD', headers: { Range: 'bytes=0-3' } });
  t.equal(ranged.status, 206);
  t.equal(ranged.headers['content-length'], '4');
});

t.test('large files are streamed from disk, ranges too', async (t) => {
  const h = await site(t);
  const full = await h.get('/large.bin');
  t.equal(full.status, 200);
  t.equal(full.headers['content-length'], String(LARGE.length));
  t.equal(sha(full.bytes), sha(LARGE));
  const start = BODY_CACHE_MAX_FILE_BYTES - 10;
  const part = await h.get('/large.bin', { Range: `bytes=${start}-${start + 99}` });
  t.equal(part.status, 206);
  t.equal(sha(part.bytes), sha(LARGE.subarray(start, start + 100)));
});
