/**
 * A user's roles as her home server keeps them, for people to read:
 * `/<domain>/<course>[/<section>]_<code>` → `<code>_<end>_<start>` (ends and
 * starts in Unix seconds, 0 or empty for "open"). Pure.
 */

export interface RoleEntry {
  /** Human name of the role code (`st` → Student); the code itself when unknown. */
  readonly role: string;
  readonly code: string;
  /** Where the role applies: `/<domain>/<course>[/<section>]`, or the domain alone. */
  readonly where: string;
  /** Unix seconds; null when open. */
  readonly start: number | null;
  readonly end: number | null;
  /** Between start and end now. */
  readonly active: boolean;
}

/** The classic LON-CAPA role codes. */
const ROLE_NAMES: Readonly<Record<string, string>> = {
  st: 'Student',
  ta: 'Teaching assistant',
  ep: 'Exam proctor',
  ad: 'Adviser',
  in: 'Instructor',
  cc: 'Course coordinator',
  co: 'Coordinator',
  au: 'Author',
  ca: 'Co-author',
  aa: 'Assistant co-author',
  li: 'Librarian',
  dg: 'Domain guide',
  dc: 'Domain coordinator',
  sc: 'School dean',
  su: 'Supervisor',
};

export function roleEntries(roles: Readonly<Record<string, string>>, nowS: number): RoleEntry[] {
  return Object.entries(roles)
    .map(([key, value]) => {
      const underscore = key.lastIndexOf('_');
      const code = underscore < 0 ? value.split('_')[0]! : key.slice(underscore + 1);
      const [, endText, startText] = value.split('_');
      const start = seconds(startText);
      const end = seconds(endText);
      return {
        role: ROLE_NAMES[code] ?? code,
        code,
        where: underscore < 0 ? key : key.slice(0, underscore).replace(/\/$/, '') || '/',
        start,
        end,
        active: (start === null || start <= nowS) && (end === null || nowS < end),
      };
    })
    .sort((a, b) => (a.where < b.where ? -1 : a.where > b.where ? 1 : a.role < b.role ? -1 : 1));
}

function seconds(text: string | undefined): number | null {
  const n = Number(text);
  return text === undefined || text === '' || !Number.isFinite(n) || n <= 0 ? null : n;
}
