/**
 * Password hashes: scrypt from node:crypto, always the asynchronous form (it
 * runs on libuv's thread pool, so a login never stalls the event loop), and
 * at most MAX_RUNNING_HASHES at once, per caller round-robin (fair-limiter.ts):
 * the pool is shared with every file read and write of the process.
 *
 * Stored as a PHC-style string with its parameters, so they can be raised
 * later without invalidating old hashes:
 *     $scrypt$ln=15,r=8,p=1$<salt, base64>$<hash, base64>
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { FairLimiter } from './fair-limiter';

/** 2^15 × 8 × 128 bytes = 32 MiB and ~0.1 s per hash on these machines. */
const COST_LOG2 = 15;
const BLOCK_SIZE = 8;
const PARALLELISM = 1;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
/** Above the 32 MiB that the parameters need (Node's default limit is exactly that). */
const MAX_MEMORY_BYTES = 64 * 1024 * 1024;
/** Refuse stored parameters beyond these: a damaged row must not make us allocate gigabytes. */
const MAX_COST_LOG2 = 20;
const MAX_BLOCK_SIZE = 16;
const MAX_PARALLELISM = 4;

/**
 * Hashes running at once: 2 of the pool's threads (8 as bin/loncapad sizes
 * it, 4 by Node's default), so file I/O keeps the rest whatever the load of
 * logins. About 20 checks a second here.
 */
const MAX_RUNNING_HASHES = 2;
/**
 * Checks one caller may have waiting (about 6 s of hashing): a burst beyond it is answered
 * `error:transient:…` at once rather than queued; its share of the hashes stays one turn in each round.
 */
const MAX_WAITING_PER_CALLER = 128;
/** Checks waiting in all: each holds a password buffer and a closure, nothing more. */
const MAX_WAITING_HASHES = 1024;
/** The lane of hashes asked for by this host itself (the CLI, the web login). */
export const LOCAL_LANE = '';

const hashing = new FairLimiter({
  maxRunning: MAX_RUNNING_HASHES,
  maxWaitingPerLane: MAX_WAITING_PER_CALLER,
  maxWaiting: MAX_WAITING_HASHES,
  busy: 'too many password checks waiting',
});

const PHC_RE = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

interface ScryptParams {
  readonly costLog2: number;
  readonly blockSize: number;
  readonly parallelism: number;
  readonly salt: Buffer;
}

interface StoredHash extends ScryptParams {
  readonly hash: Buffer;
}

const DEFAULT_PARAMS = { costLog2: COST_LOG2, blockSize: BLOCK_SIZE, parallelism: PARALLELISM };

/**
 * Checked against for users that do not exist (or cannot log in with a
 * password), so that `auth` costs the same either way and reveals nothing.
 */
const DUMMY: StoredHash = { ...DEFAULT_PARAMS, salt: Buffer.alloc(SALT_BYTES), hash: Buffer.alloc(HASH_BYTES) };

/** `lane` is the calling host: its hashes wait in its own line (fair-limiter.ts). */
export async function hashPassword(password: string | Buffer, lane = LOCAL_LANE): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await hashing.run(lane, () => derive(password, { ...DEFAULT_PARAMS, salt }, HASH_BYTES));
  return `$scrypt$ln=${COST_LOG2},r=${BLOCK_SIZE},p=${PARALLELISM}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/**
 * Does `password` match `stored`? With `stored` undefined a dummy hash is
 * computed and the answer is false: callers pass undefined for unknown users.
 * A full waiting line rejects with `error:transient:…` (nothing was checked).
 */
export async function verifyPassword(password: string | Buffer, stored: string | undefined, lane = LOCAL_LANE): Promise<boolean> {
  const params = stored === undefined ? DUMMY : parseStored(stored);
  const hash = await hashing.run(lane, () => derive(password, params, params.hash.length));
  return stored !== undefined && timingSafeEqual(hash, params.hash);
}

function parseStored(stored: string): StoredHash {
  const m = PHC_RE.exec(stored);
  if (!m) throw new Error('stored password hash is damaged');
  const params: StoredHash = {
    costLog2: Number(m[1]),
    blockSize: Number(m[2]),
    parallelism: Number(m[3]),
    salt: Buffer.from(m[4]!, 'base64'),
    hash: Buffer.from(m[5]!, 'base64'),
  };
  if (
    params.costLog2 < 1 ||
    params.costLog2 > MAX_COST_LOG2 ||
    params.blockSize < 1 ||
    params.blockSize > MAX_BLOCK_SIZE ||
    params.parallelism < 1 ||
    params.parallelism > MAX_PARALLELISM ||
    params.hash.length === 0
  ) {
    throw new Error('stored password hash has unsupported parameters');
  }
  return params;
}

function derive(password: string | Buffer, params: ScryptParams, keyBytes: number): Promise<Buffer> {
  const options: ScryptOptions = {
    N: 2 ** params.costLog2,
    r: params.blockSize,
    p: params.parallelism,
    maxmem: Math.max(MAX_MEMORY_BYTES, 256 * 2 ** params.costLog2 * params.blockSize * params.parallelism),
  };
  return new Promise((resolve, reject) => {
    scrypt(password, params.salt, keyBytes, options, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}
