/**
 * Filters registered by code (issue 4 §2.5, reference §5.3): functions run on
 * requests whose URL matches a glob, at one of three stages:
 *
 *   preauth, postauth  after the processor's own session and authorisation
 *                      checks (in OpenACS the request processor is itself the
 *                      first preauth filter), before any handler or file search;
 *   trace              after the response has been sent; results are ignored
 *                      and errors only logged.
 *
 * A filter returns 'ok' (go on), 'break' (skip the rest of this stage) or
 * 'return' (the filter has answered; stop). Filters of a stage run in
 * registration order.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestEnv } from './request-env';

export type FilterStage = 'preauth' | 'postauth' | 'trace';
export type FilterResult = 'ok' | 'break' | 'return';
export type Filter = (req: IncomingMessage, res: ServerResponse, env: RequestEnv) => FilterResult | Promise<FilterResult>;

interface Registration {
  readonly pattern: RegExp;
  readonly filter: Filter;
}

export class FilterRegistry {
  readonly #stages: Record<FilterStage, Registration[]> = { preauth: [], postauth: [], trace: [] };

  /** `glob`: `*` matches any run of characters ('/' included), `?` one character. Returns an unregister function. */
  register(stage: FilterStage, glob: string, filter: Filter): () => void {
    const registration = { pattern: globToRegExp(glob), filter };
    this.#stages[stage].push(registration);
    return () => {
      const list = this.#stages[stage];
      const at = list.indexOf(registration);
      if (at >= 0) list.splice(at, 1);
    };
  }

  matching(stage: FilterStage, url: string): Filter[] {
    const list = this.#stages[stage];
    // The common case (no filters) allocates nothing.
    return list.length === 0 ? NONE : list.filter((r) => r.pattern.test(url)).map((r) => r.filter);
  }
}

const NONE: Filter[] = [];

export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\*?]/g, (c) => (c === '*' ? '.*' : c === '?' ? '.' : '\\' + c));
  return new RegExp('^' + body + '$', 's');
}

export function isFilterResult(value: unknown): value is FilterResult {
  return value === 'ok' || value === 'break' || value === 'return';
}
