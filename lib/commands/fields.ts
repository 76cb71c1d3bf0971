/**
 * Checking and reading the fields of the classic user-data commands, after
 * the command table has split the line. Every parser throws `badArgs` before
 * anything is written, so a malformed command changes nothing.
 *
 * Keys, values, record ids and map ids are escaped text (see
 * client/escape.ts). A raw `:`, `&` or `=` where it is not a separator means
 * the client did not escape (or sent too many fields); a `%` must start `%XX`.
 * Any other raw character is accepted and stored escaped; keys in canonical
 * form (every non-word byte as uppercase `%XX`, nothing else escaped), so
 * `a.b`, `a%2eb` and `a%2Eb` are one key.
 */
import { escapeBytes, isWellEscaped, unescape, unescapeBytes } from '../client/escape';
import { badArgs } from '../errors';
import { checkName, type Pair, type UserRef } from '../store';

/** Longest escaped key (record ids, symbs escaped to three times their length, fit easily). */
const MAX_KEY_CHARS = 4096;
/** Longest activity-log text. */
const MAX_LOG_TEXT_CHARS = 64 * 1024;

const CANONICAL_FAST_RE = /^\w*$/;
/** Anything escape() would not produce (it writes word characters and uppercase `%XX` only). */
const NOT_ESCAPED_FORM_RE = /[^\w%]|%(?![0-9A-F]{2})/;
const STRUCTURAL_RE = /[:&=\x00-\x1f\x7f]/;
const CONTROL_RE = /[\x00-\x1f\x7f]/;

export function userOf(domain: string, name: string): UserRef {
  return { domain: checkName('domain', domain), name: checkName('user name', name) };
}

/** An escaped field in canonical form. */
export function escapedField(what: string, text: string, maxChars: number): string {
  if (text.length > maxChars) throw badArgs(`${what} longer than ${maxChars} characters`);
  if (CANONICAL_FAST_RE.test(text)) return text;
  if (STRUCTURAL_RE.test(text)) throw badArgs(`unescaped character in ${what}`);
  if (!isWellEscaped(text)) throw badArgs(`bad escape in ${what}`);
  return escapeBytes(unescapeBytes(text));
}

/**
 * A value as sent when it is already in escape()'s form (the common case,
 * and a 1 MiB value is not worth re-encoding); canonical otherwise. Unlike
 * keys, values need no single spelling: nothing looks them up. `maxChars` is
 * the --max-value-bytes setting (escaped text: a character is a byte).
 */
export function valueOf(text: string, maxChars: number): string {
  if (text.length <= maxChars && !NOT_ESCAPED_FORM_RE.test(text)) return text;
  return escapedField('value', text, maxChars);
}

export function keyOf(text: string, what = 'key'): string {
  if (text === '') throw badArgs(`empty ${what}`);
  return escapedField(what, text, MAX_KEY_CHARS);
}

/** `k&k&…`; the empty field is the empty list. */
export function keysOf(field: string, what = 'key'): string[] {
  return field === '' ? [] : field.split('&').map((k) => keyOf(k, what));
}

/** `k=v&k=v…`, at least one pair; values of at most `maxValueChars`. */
export function pairsOf(field: string, maxValueChars: number, what = 'key'): Pair[] {
  if (field === '') throw badArgs('no key=value pairs');
  return field.split('&').map((item) => {
    const eq = item.indexOf('=');
    if (eq < 0) throw badArgs(`expected ${what}=value`);
    return [keyOf(item.slice(0, eq), what), valueOf(item.slice(eq + 1), maxValueChars)] as const;
  });
}

const NUMBER_RE = /^-?(?:\d+(?:\.\d*)?|\.\d+)$/;

/** `k[=n]&…`: n is an escaped decimal number, 1 when left out (classic `inc`). */
export function incrementsOf(field: string): Array<readonly [string, number]> {
  if (field === '') throw badArgs('no keys to increment');
  return field.split('&').map((item) => {
    const eq = item.indexOf('=');
    const key = keyOf(eq < 0 ? item : item.slice(0, eq));
    const amount = eq < 0 ? '' : unescape(escapedField('increment', item.slice(eq + 1), 64));
    if (amount === '') return [key, 1] as const;
    if (!NUMBER_RE.test(amount)) throw badArgs('increment is not a number');
    return [key, Number(amount)] as const;
  });
}

/** Free text kept as sent (the activity log): one line, bounded. */
export function textOf(field: string): string {
  if (field.length > MAX_LOG_TEXT_CHARS) throw badArgs(`text longer than ${MAX_LOG_TEXT_CHARS} characters`);
  if (CONTROL_RE.test(field)) throw badArgs('control character in text');
  return field;
}
