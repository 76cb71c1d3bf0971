/**
 * The key regular expression of `dump` (classic lond matched the unescaped
 * key against a caller's Perl regexp). Any local user of any host can send
 * one, so no pattern may stall the daemon:
 *
 *   1. Patterns are compiled by RE2JS, a port of RE2: matching takes time
 *      linear in the key's length whatever the pattern, because nothing ever
 *      backtracks. The constructs that need backtracking (back-references,
 *      look-ahead, look-behind) are refused by name, and a pattern that
 *      compiles to a large program is refused, since the worst case per key
 *      is program size × key length.
 *   2. Matching runs through one TurnScheduler for the whole process: the
 *      keys of every dump are matched a key at a time, round-robin, under one
 *      budget per event-loop turn, so many dumps at once take turns instead
 *      of adding up; and one dump has a total matching budget.
 *
 * Syntax is RE2's, which covers the Perl subset classic callers used
 * (docs/commands.md lists the differences).
 */
import { RE2JS, RE2JSException } from 're2js';
import { badArgs, LoncapadError } from '../errors';
import { TurnScheduler, type SlicedJob } from './turn-scheduler';

const MAX_PATTERN_CHARS = 256;
/**
 * Largest compiled program. One key is one uninterrupted step; with this
 * bound the worst key (4096 characters, an automaton that keeps missing its
 * cache) takes about 100 ms here, a sane pattern well under 0.1 ms.
 */
const MAX_PROGRAM_INSTRUCTIONS = 1000;
/** All the matching of one dump, ms: a pattern that is merely slow on a huge namespace gets an error, not the CPU. */
const TOTAL_BUDGET_MS = 1000;
/**
 * Compiled patterns kept for reuse (a caller often repeats its dump). Each
 * builds an automaton of up to about 8 MiB as it matches, so keep few.
 */
const CACHED_PATTERNS = 8;

/**
 * Matching of all dumps together takes at most about 10 ms per event-loop
 * turn; 8 jobs at a time keep at most 8 automata (about 8 MiB each) growing.
 */
const matching = new TurnScheduler({ turnBudgetMs: 10, sliceMs: 1, maxActive: 8 });
/** Pattern → compiled program or the refusal, most recently used last. */
const cache = new Map<string, RE2JS | LoncapadError>();

export interface KeyMatcher {
  /** Resolves once the pattern is compiled; rejects with `error:` when it cannot be used. */
  ready(): Promise<void>;
  /** Which of `keys` (unescaped) match, in order; rejects with `error:` past the dump's budget. */
  match(keys: readonly string[]): Promise<boolean[]>;
}

/** A matcher for the escaped-then-unescaped `pattern`; undefined when it matches every key. */
export function keyMatcher(pattern: string): KeyMatcher | undefined {
  if (pattern === '' || pattern === '.') return undefined;
  if (pattern.length > MAX_PATTERN_CHARS) throw badArgs(`regexp longer than ${MAX_PATTERN_CHARS} characters`);
  const unsupported = unsupportedOf(pattern);
  if (unsupported) throw badArgs(`regexp refused (${unsupported})`);
  const spent = { ms: 0 };
  return {
    ready: () => matching.run(new PatternMatch(pattern, [], spent)),
    async match(keys) {
      const job = new PatternMatch(pattern, keys, spent);
      await matching.run(job);
      return job.results;
    },
  };
}

/** One page of keys against one pattern: the first step compiles (or takes it from the cache), each next step tests one key. */
class PatternMatch implements SlicedJob {
  readonly results: boolean[] = [];
  readonly #pattern: string;
  readonly #keys: readonly string[];
  readonly #spent: { ms: number };
  #re: RE2JS | undefined;

  constructor(pattern: string, keys: readonly string[], spent: { ms: number }) {
    this.#pattern = pattern;
    this.#keys = keys;
    this.#spent = spent;
  }

  step(): boolean {
    const started = performance.now();
    try {
      if (this.#re === undefined) this.#re = compiled(this.#pattern);
      else this.results.push(this.#re.test(this.#keys[this.results.length]!));
    } finally {
      this.#spent.ms += performance.now() - started;
    }
    if (this.#spent.ms > TOTAL_BUDGET_MS) throw badArgs('regexp too slow for this namespace');
    return this.results.length === this.#keys.length;
  }
}

function compiled(pattern: string): RE2JS {
  let entry = cache.get(pattern);
  if (entry === undefined) {
    entry = compile(pattern);
    if (cache.size >= CACHED_PATTERNS) cache.delete(cache.keys().next().value!);
  } else cache.delete(pattern);
  cache.set(pattern, entry);
  if (entry instanceof LoncapadError) throw entry;
  return entry;
}

function compile(pattern: string): RE2JS | LoncapadError {
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (err) {
    if (err instanceof RE2JSException) return badArgs(`bad regexp: ${err.message.replace(/^error parsing regexp: /, '')}`);
    throw err;
  }
  const size = re.programSize();
  if (size > MAX_PROGRAM_INSTRUCTIONS) return badArgs(`regexp too large (${size} instructions, at most ${MAX_PROGRAM_INSTRUCTIONS})`);
  return re;
}

/**
 * The constructs RE2 lacks because they need backtracking, by name, so the
 * caller knows what to change (RE2's own message would only say "invalid").
 */
function unsupportedOf(pattern: string): string | undefined {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      // \1…\9, \k<name> (JavaScript, Perl), \g1, \g{name} (Perl)
      if (/[1-9kg]/.test(pattern[i + 1] ?? '')) return 'back-reference';
      i++;
    } else if (c === '[') {
      i = endOfClass(pattern, i);
    } else if (pattern.startsWith('(?=', i) || pattern.startsWith('(?!', i)) {
      return 'look-ahead';
    } else if (pattern.startsWith('(?<=', i) || pattern.startsWith('(?<!', i)) {
      return 'look-behind';
    }
  }
  return undefined;
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
