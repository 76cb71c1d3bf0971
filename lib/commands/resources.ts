/**
 * The resource space on disk (published resources under `resourceDir`):
 *
 *   ls:<path>              → name&<13 stat fields>:name&…  | empty | no_such_dir
 *   currentversion:<path>  → the current version number, -1 when not published
 *
 * Classic callers sent file-system paths below their document root
 * (`/home/httpd/html/res/<dom>/<author>/…`); new ones send `/res/<dom>/…`.
 * Both mean the part after the first `res` segment, below `resourceDir`. A
 * path may not climb (`.`/`..` segments are refused) and may not leave the
 * root through a symbolic link (answered as not there).
 *
 * Stat fields are Perl's order: dev ino mode nlink uid gid rdev size atime
 * mtime ctime blksize blocks (times in seconds). Entries are not followed
 * when they are links, and `.`/`..` are left out. Names are answered raw
 * except `% : &` and control characters, which are `%XX`-escaped so that the
 * listing stays parseable (unescaping a name is always right).
 *
 * Versions: `name.ext` is the current version and `name.<n>.ext` the older
 * ones [classic publisher]; the current version number is one above the
 * highest kept, 1 when none is kept.
 */
import { lstat, opendir, realpath, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { basename, join, sep } from 'node:path';
import { badArgs } from '../errors';
import { currentNameOf, highestKeptVersion, MAX_DIRECTORY_ENTRIES, resourceSegments } from '../store/resource-files';
import { BoundedReply } from './bounded-reply';
import type { CommandContext } from './context';
import type { CommandSpec } from './table';

const NAME_ESCAPE_RE = /[%:&\x00-\x1f\x7f]/g;

/**
 * The real path of `segments` below the resource root, or undefined when it
 * does not exist, there is no root, or it resolves outside the root.
 */
async function locate(ctx: CommandContext, segments: string[]): Promise<string | undefined> {
  const root = ctx.services.settings.resourceDir;
  const realRoot = root === undefined ? undefined : await orMissing(realpath(root));
  if (realRoot === undefined) return undefined;
  const real = await orMissing(realpath(join(realRoot, ...segments)));
  if (real === undefined || (real !== realRoot && !real.startsWith(realRoot + sep))) return undefined;
  return real;
}

async function orMissing<T>(pending: Promise<T>): Promise<T | undefined> {
  try {
    return await pending;
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function statFields(s: Stats): string {
  const seconds = (ms: number): number => Math.floor(ms / 1000);
  return [
    s.dev, s.ino, s.mode, s.nlink, s.uid, s.gid, s.rdev, s.size,
    seconds(s.atimeMs), seconds(s.mtimeMs), seconds(s.ctimeMs), s.blksize, s.blocks,
  ].join('&');
}

function listedName(name: string): string {
  return name.replace(NAME_ESCAPE_RE, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
}

const ls: CommandSpec = {
  name: 'ls',
  access: 'any',
  writes: false,
  secret: false,
  fields: { min: 1, max: 1 },
  async run(ctx, [path]) {
    const segments = resourceSegments(path);
    const real = segments && (await locate(ctx, segments));
    if (real === undefined) return 'no_such_dir';
    const self = await stat(real);
    if (!self.isDirectory()) return `${listedName(basename(real))}&${statFields(self)}`;
    const reply = new BoundedReply('ls', ctx.services.settings.maxReplyBytes);
    let entries = 0;
    for await (const entry of await opendir(real)) {
      if (++entries > MAX_DIRECTORY_ENTRIES) throw badArgs(`directory has more than ${MAX_DIRECTORY_ENTRIES} entries`);
      reply.add(`${listedName(entry.name)}&${statFields(await lstat(join(real, entry.name)))}`);
    }
    return reply.count === 0 ? 'empty' : reply.join(':');
  },
};

const currentversion: CommandSpec = {
  name: 'currentversion',
  access: 'any',
  writes: false,
  secret: false,
  fields: { min: 1, max: 1 },
  async run(ctx, [path]) {
    const segments = resourceSegments(path);
    if (segments === undefined || segments.length === 0) return '-1';
    const name = currentNameOf(segments[segments.length - 1]!);
    const dir = await locate(ctx, segments.slice(0, -1));
    const current = dir === undefined ? undefined : await orMissing(lstat(join(dir, name)));
    if (dir === undefined || current === undefined) return '-1';
    const highest = await highestKeptVersion(dir, name);
    return String(highest + 1);
  },
};

export const resourceCommands: CommandSpec[] = [ls, currentversion];
