/**
 * The users who live here (classic `<propath>/passwd`): a row exists exactly
 * when this server is the user's (or course's) home. The authentication
 * record is `auth_type` plus `auth_arg`; for `internal` the argument is a
 * scrypt hash string (see passwords.ts), never a password.
 */
import type { Db } from './sqlite';
import type { Clock, UserRef } from './types';

export interface AuthRecord {
  readonly type: string;
  readonly arg: string;
}

export class UserTable {
  readonly #now: Clock;
  readonly #exists;
  readonly #auth;
  readonly #create;
  readonly #setAuth;
  readonly #replaceAuth;

  constructor(db: Db, now: Clock) {
    this.#now = now;
    this.#exists = db.prepare('SELECT 1 FROM users WHERE domain = ? AND name = ?').pluck();
    this.#auth = db.prepare('SELECT auth_type AS type, auth_arg AS arg FROM users WHERE domain = ? AND name = ?');
    this.#create = db.prepare(
      'INSERT OR IGNORE INTO users (domain, name, auth_type, auth_arg, created_at) VALUES (?, ?, ?, ?, ?)',
    );
    this.#setAuth = db.prepare('UPDATE users SET auth_type = ?, auth_arg = ? WHERE domain = ? AND name = ?');
    this.#replaceAuth = db.prepare(
      'UPDATE users SET auth_type = ?, auth_arg = ? WHERE domain = ? AND name = ? AND auth_type = ? AND auth_arg = ?',
    );
  }

  exists(user: UserRef): boolean {
    return this.#exists.get(user.domain, user.name) !== undefined;
  }

  auth(user: UserRef): AuthRecord | undefined {
    return this.#auth.get(user.domain, user.name) as AuthRecord | undefined;
  }

  /** false when the user already lives here (nothing changed). */
  create(user: UserRef, auth: AuthRecord): boolean {
    return this.#create.run(user.domain, user.name, auth.type, auth.arg, this.#now()).changes === 1;
  }

  /** false when the user does not live here. */
  setAuth(user: UserRef, auth: AuthRecord): boolean {
    return this.#setAuth.run(auth.type, auth.arg, user.domain, user.name).changes === 1;
  }

  /**
   * Replace the record only if it is still `expected`: a password change
   * verifies and hashes asynchronously, and must not undo a change that
   * landed meanwhile.
   */
  replaceAuth(user: UserRef, expected: AuthRecord, next: AuthRecord): boolean {
    return (
      this.#replaceAuth.run(next.type, next.arg, user.domain, user.name, expected.type, expected.arg).changes === 1
    );
  }
}
