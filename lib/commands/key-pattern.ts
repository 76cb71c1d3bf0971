/**
 * The key regular expression of `dump` (classic lond matched the unescaped
 * key against a caller's Perl regexp). A caller's pattern must not be able to
 * hang the daemon, so:
 *
 *   1. it is bounded in length and refused when it has the shapes that cause
 *      catastrophic backtracking or unbounded work (a repeated group that
 *      itself repeats, back-references, look-behind);
 *   2. whatever slips through runs under a deadline: each batch of keys is
 *      matched inside a `vm` script with a timeout (V8 interrupts even a
 *      backtracking regexp), and a dump has a total matching budget.
 *
 * Syntax is JavaScript's, which covers the Perl subset classic callers used.
 */
import { Script, createContext } from 'node:vm';
import { badArgs } from '../errors';

const MAX_PATTERN_CHARS = 256;
/** One batch of keys may take this long; far above any sane pattern (about 0.5 ms per 1000 keys). */
const BATCH_TIMEOUT_MS = 50;
/** All batches of one dump together; the event loop yields between batches meanwhile. */
const TOTAL_BUDGET_MS = 1000;

/** One context for every dump: runs are synchronous, so they never overlap. */
const sandbox = createContext({ re: /(?:)/, keys: [] as string[] });
const matchKeys = new Script('keys.map((k) => re.test(k))');

export interface KeyMatcher {
  /** Which of `keys` (unescaped) match; throws `error:` when the pattern is too slow. */
  match(keys: readonly string[]): boolean[];
}

/** A matcher for the escaped-then-unescaped `pattern`; undefined when it matches every key. */
export function keyMatcher(pattern: string): KeyMatcher | undefined {
  if (pattern === '' || pattern === '.') return undefined;
  if (pattern.length > MAX_PATTERN_CHARS) throw badArgs(`regexp longer than ${MAX_PATTERN_CHARS} characters`);
  const danger = dangerOf(pattern);
  if (danger) throw badArgs(`regexp refused (${danger})`);
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch (err) {
    throw badArgs(`bad regexp: ${(err as Error).message}`);
  }
  let spentMs = 0;
  return {
    match(keys) {
      const budget = Math.min(BATCH_TIMEOUT_MS, TOTAL_BUDGET_MS - spentMs);
      if (budget <= 0) throw badArgs('regexp too slow for this namespace');
      const started = performance.now();
      sandbox.re = re;
      sandbox.keys = keys;
      try {
        return matchKeys.runInContext(sandbox, { timeout: Math.ceil(budget) }) as boolean[];
      } catch (err) {
        if ((err as { code?: unknown }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
          throw badArgs('regexp too slow (catastrophic backtracking?)');
        }
        throw err;
      } finally {
        sandbox.keys = [];
        spentMs += performance.now() - started;
      }
    },
  };
}

interface GroupScan {
  repeats: boolean;
}

/**
 * Why a pattern is refused, or undefined. A small scanner over the pattern's
 * structure (escapes, classes, groups, quantifiers), not a full parser: it
 * looks only for the shapes that make backtracking exponential.
 */
function dangerOf(pattern: string): string | undefined {
  const groups: GroupScan[] = [{ repeats: false }];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      const next = pattern[i + 1] ?? '';
      if (/[1-9]/.test(next) || next === 'k') return 'back-reference';
      i++;
    } else if (c === '[') {
      i = endOfClass(pattern, i);
    } else if (c === '(') {
      if (pattern.startsWith('(?<=', i) || pattern.startsWith('(?<!', i)) return 'look-behind';
      groups.push({ repeats: false });
    } else if (c === ')') {
      const inner = groups.pop();
      if (!inner || groups.length === 0) return undefined; // unbalanced: new RegExp reports it
      const repeat = repetitionAt(pattern, i + 1);
      if (repeat && inner.repeats) return 'nested repetition';
      if (repeat || inner.repeats) groups[groups.length - 1]!.repeats = true;
    } else if (repetitionAt(pattern, i)) {
      groups[groups.length - 1]!.repeats = true;
    }
  }
  return undefined;
}

/** Does a quantifier that repeats (`*`, `+`, `{n,}`, `{n,m}` with m > 1) start at `i`? */
function repetitionAt(pattern: string, i: number): boolean {
  const c = pattern[i];
  if (c === '*' || c === '+') return true;
  if (c !== '{') return false;
  const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i, i + 24));
  if (!m) return false;
  if (m[2] === undefined) return Number(m[1]) > 1;
  return m[3] === '' || Number(m[3]) > 1;
}

/** Index of the `]` that closes the class opened at `start` (or the end of the pattern). */
function endOfClass(pattern: string, start: number): number {
  let i = start + 1;
  if (pattern[i] === '^') i++;
  if (pattern[i] === ']') i++;
  for (; i < pattern.length; i++) {
    if (pattern[i] === '\\') i++;
    else if (pattern[i] === ']') return i;
  }
  return pattern.length;
}
