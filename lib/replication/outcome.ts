/**
 * How an attempt to get a resource ended, as the web and `update` need it.
 *
 *   ok           a local copy is installed (or was already there)
 *   not_found    the home has no such resource, or no home claims the author
 *   rejected     the host asked is not the home of the resource
 *   directory    the URL names a directory on the home
 *   unavailable  the home could not be reached or the transfer failed
 *                (corrupt, truncated, interrupted): nothing was installed
 */
export type Outcome =
  | { readonly kind: 'ok' }
  | { readonly kind: 'not_found' | 'rejected' | 'directory' }
  | { readonly kind: 'unavailable'; readonly why: string };

export const OK: Outcome = { kind: 'ok' };

export function unavailable(why: string): Outcome {
  return { kind: 'unavailable', why };
}

/** The outcome of a refusing reply of the home, or undefined for any other reply. */
export function refusalOf(reply: string): Outcome | undefined {
  switch (reply) {
    case 'not_found':
    case 'rejected':
    case 'directory':
      return { kind: reply };
    default:
      return undefined;
  }
}

/** A transfer that must not be installed; the message says why. */
export class TransferFailed extends Error {
  readonly outcome: Outcome;
  constructor(outcome: Outcome) {
    super(outcome.kind === 'unavailable' ? outcome.why : outcome.kind);
    this.name = 'TransferFailed';
    this.outcome = outcome;
  }
}
