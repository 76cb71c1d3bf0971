/**
 * The `.meta` file beside every published version (classic lonpublisher
 * wrote `<title>…</title>`-style tags; we keep that shape):
 *
 *   <title>Bohr model</title>
 *   <author>smith:msu</author>
 *   <version>3</version>
 *   <size>1048576</size>
 *   <sha256>9f86d0…</sha256>
 *   <published>1700000000</published>
 *
 * Values are HTML-escaped; `published` is unix seconds.
 */
import { escapeHtml } from '../web';

export interface ResourceMeta {
  readonly title: string;
  /** `<author>:<domain>` */
  readonly author: string;
  readonly version: number;
  readonly size: number;
  readonly sha256: string;
  /** ms since the epoch */
  readonly publishedAt: number;
}

/** A meta file is a few short tags; anything larger is not one of ours. */
export const MAX_META_BYTES = 16 * 1024;

export function formatMeta(m: ResourceMeta): string {
  return (
    `<title>${escapeHtml(m.title)}</title>\n` +
    `<author>${escapeHtml(m.author)}</author>\n` +
    `<version>${m.version}</version>\n` +
    `<size>${m.size}</size>\n` +
    `<sha256>${m.sha256}</sha256>\n` +
    `<published>${Math.floor(m.publishedAt / 1000)}</published>\n`
  );
}

/** The value of one tag, unescaped, or undefined. */
export function metaField(text: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(text);
  return m ? unescapeHtml(m[1]!) : undefined;
}

function unescapeHtml(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => UNESCAPES[e]!);
}

const UNESCAPES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" };
