/**
 * The users who live here (classic `<propath>/passwd`): a row exists exactly
 * when this server is the user's (or course's) home. The authentication
 * record is `auth_type` plus `auth_arg`; for `internal` the argument is a
 * scrypt hash string (see passwords.ts), never a password.
 *
 * `auth_token` is replaced by every change of the record, in the same
 * statement: web sessions carry the token they were opened with, and a
 * session whose token is no longer current has ended (a password change
 * logs the user out everywhere).
 */
import { randomBytes } from 'node:crypto';
import type { Db } from './sqlite';
import type { Clock, UserRef } from './types';

export interface AuthRecord {
  readonly type: string;
  readonly arg: string;
}

/** Told after a user's authentication record (and so her auth token) has changed. */
export type AuthChangeListener = (user: UserRef) => void;

/** 8 random bytes: tokens only need to differ from the one before, not to be secret. */
function newAuthToken(): string {
  return randomBytes(8).toString('hex');
}

export class UserTable {
  readonly #now: Clock;
  readonly #exists;
  readonly #auth;
  readonly #authToken;
  readonly #create;
  readonly #setAuth;
  readonly #replaceAuth;
  readonly #listeners: AuthChangeListener[] = [];

  constructor(db: Db, now: Clock) {
    this.#now = now;
    this.#exists = db.prepare('SELECT 1 FROM users WHERE domain = ? AND name = ?').pluck();
    this.#auth = db.prepare('SELECT auth_type AS type, auth_arg AS arg FROM users WHERE domain = ? AND name = ?');
    this.#authToken = db.prepare('SELECT auth_token FROM users WHERE domain = ? AND name = ?').pluck();
    this.#create = db.prepare(
      'INSERT OR IGNORE INTO users (domain, name, auth_type, auth_arg, created_at, auth_token) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.#setAuth = db.prepare(
      'UPDATE users SET auth_type = ?, auth_arg = ?, auth_token = ? WHERE domain = ? AND name = ?',
    );
    this.#replaceAuth = db.prepare(
      'UPDATE users SET auth_type = ?, auth_arg = ?, auth_token = ? WHERE domain = ? AND name = ? AND auth_type = ? AND auth_arg = ?',
    );
  }

  exists(user: UserRef): boolean {
    return this.#exists.get(user.domain, user.name) !== undefined;
  }

  auth(user: UserRef): AuthRecord | undefined {
    return this.#auth.get(user.domain, user.name) as AuthRecord | undefined;
  }

  /** The current auth token; undefined when the user does not live here. */
  authToken(user: UserRef): string | undefined {
    return this.#authToken.get(user.domain, user.name) as string | undefined;
  }

  /** Call `listener` after every change of a user's authentication made through this table. */
  onAuthChange(listener: AuthChangeListener): void {
    this.#listeners.push(listener);
  }

  /** false when the user already lives here (nothing changed). */
  create(user: UserRef, auth: AuthRecord): boolean {
    return this.#create.run(user.domain, user.name, auth.type, auth.arg, this.#now(), newAuthToken()).changes === 1;
  }

  /** false when the user does not live here. */
  setAuth(user: UserRef, auth: AuthRecord): boolean {
    return this.#changed(user, this.#setAuth.run(auth.type, auth.arg, newAuthToken(), user.domain, user.name).changes);
  }

  /**
   * Replace the record only if it is still `expected`: a password change
   * verifies and hashes asynchronously, and must not undo a change that
   * landed meanwhile.
   */
  replaceAuth(user: UserRef, expected: AuthRecord, next: AuthRecord): boolean {
    const changes = this.#replaceAuth.run(
      next.type, next.arg, newAuthToken(), user.domain, user.name, expected.type, expected.arg,
    ).changes;
    return this.#changed(user, changes);
  }

  #changed(user: UserRef, changes: number): boolean {
    if (changes !== 1) return false;
    for (const listener of this.#listeners) listener(user);
    return true;
  }
}
