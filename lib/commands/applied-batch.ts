/**
 * The applied ids of one batch of requests run in one transaction (a frame's
 * worth from a peer, a replay window's share): every critical message's id
 * looked up in one query before the batch runs, and the ones it applies
 * recorded in one statement before it commits, so the record still commits
 * with the effect or not at all. A message seen twice in one batch finds
 * the first one's reply here, as it would have found its row.
 */
import type { AppliedRow, AppliedTable } from '../store/user-store';

export class AppliedBatch {
  readonly #table: AppliedTable;
  /** By sender: msgid → reply, of ids applied before the batch or in it. */
  readonly #known = new Map<string, Map<string, string>>();
  readonly #rows: AppliedRow[] = [];

  /** `messages`: the (sender, msgid) of the batch's critical messages. */
  constructor(table: AppliedTable, messages: ReadonlyArray<readonly [sender: string, msgid: string]>) {
    this.#table = table;
    const bySender = new Map<string, string[]>();
    for (const [sender, msgid] of messages) (bySender.get(sender) ?? bySender.set(sender, []).get(sender)!).push(msgid);
    for (const [sender, msgids] of bySender) this.#known.set(sender, table.replies(sender, msgids));
  }

  /** The reply of `msgid` from `sender` if it was applied, before this batch or in it. */
  reply(sender: string, msgid: string): string | undefined {
    return this.#known.get(sender)?.get(msgid);
  }

  /** It is applied now (its effect is in this batch's transaction): recorded at `flush`. */
  record(sender: string, msgid: string, reply: string): void {
    let known = this.#known.get(sender);
    if (known === undefined) this.#known.set(sender, (known = new Map()));
    if (known.has(msgid)) return;
    known.set(msgid, reply);
    this.#rows.push([sender, msgid, reply]);
  }

  /** Write the records, in the batch's transaction, before it commits. */
  flush(): void {
    if (this.#rows.length > 0) this.#table.recordMany(this.#rows);
  }
}
