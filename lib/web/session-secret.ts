/**
 * The key that signs session cookies: 32 random bytes in `keysDir`, created
 * on first start with mode 0600 and read once at start. Replacing the file
 * (and restarting) logs everybody out, which is the way to rotate it.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LoncapadError } from '../errors';

export const SESSION_SECRET_FILE = 'web-session.key';
const SECRET_BYTES = 32;

export async function loadSessionSecret(keysDir: string): Promise<Buffer> {
  const file = join(keysDir, SESSION_SECRET_FILE);
  await mkdir(keysDir, { recursive: true, mode: 0o700 });
  try {
    // 'wx' fails if the file exists, so two daemons starting at once cannot overwrite each other's key.
    await writeFile(file, randomBytes(SECRET_BYTES), { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const secret = await readFile(file);
  if (secret.length !== SECRET_BYTES) {
    throw new LoncapadError('LC_ERR_CONFIG', `${file}: expected ${SECRET_BYTES} bytes, found ${secret.length}`);
  }
  return secret;
}
