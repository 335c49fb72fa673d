// What ghost text saved the user: characters accepted and keystrokes saved, per day and in all, kept on the
// user's machine only (the editor stores the ledger in its global state; nothing is ever sent).
//
// VS Code tells an extension nothing when ghost text is accepted word by word (Ctrl+Right), and its item
// command runs only on a whole accept (Tab), so an accept is recognised from the document change itself:
// text inserted at once, on the line of the last suggestion shown, that is the part of the suggestion at
// that place (a whole accept may also replace the typed start of the word with the same characters). One
// character inserted is taken for typing, even when it matches (typing through ghost text), so a
// one-character accept is not counted. Each accept costs one key (Tab or Ctrl+Right): the keystrokes saved
// are the characters accepted minus one per accept.

/** The last suggestion shown in a document: its line, where its text starts, and the whole text. */
export interface Offered {
  line: number;
  start: number;
  text: string;
}

/** One edit of a line: `removed` characters at `character` replaced by `inserted`. */
export interface LineEdit {
  line: number;
  character: number;
  removed: number;
  inserted: string;
}

/** The characters an edit took from the suggestion, or 0 when it is not an accept. */
export function acceptedChars(offered: Offered | undefined, edit: LineEdit): number {
  if (!offered || edit.line !== offered.line || edit.inserted.includes('\n') || edit.inserted.includes('\r')) return 0;
  const gained = edit.inserted.length - edit.removed;
  if (gained < 2) return 0;
  const at = edit.character - offered.start;
  if (at < 0 || offered.text.slice(at, at + edit.inserted.length) !== edit.inserted) return 0;
  return gained;
}

export interface DaySavings {
  /** Accepts counted (each one key). */
  accepts: number;
  chars: number;
}

export interface SavingsLedger {
  /** Per local day, 'YYYY-MM-DD'. */
  days: Record<string, DaySavings>;
  /** Since the ledger began (days older than the kept ones included). */
  total: DaySavings;
}

/** Days kept in the ledger's per-day list. */
export const KEPT_DAYS = 90;

export function emptyLedger(): SavingsLedger {
  return { days: {}, total: { accepts: 0, chars: 0 } };
}

/** A ledger read back from storage, or an empty one for anything that is not one. */
export function ledgerFrom(value: unknown): SavingsLedger {
  const v = value as Partial<SavingsLedger> | undefined;
  const ok = (d: unknown): d is DaySavings => !!d && Number.isFinite((d as DaySavings).accepts) && Number.isFinite((d as DaySavings).chars);
  if (!v || typeof v !== 'object' || !ok(v.total) || !v.days || typeof v.days !== 'object') return emptyLedger();
  const days: Record<string, DaySavings> = {};
  for (const [day, d] of Object.entries(v.days)) if (/^\d{4}-\d{2}-\d{2}$/.test(day) && ok(d)) days[day] = { accepts: d.accepts, chars: d.chars };
  return { days, total: { accepts: v.total.accepts, chars: v.total.chars } };
}

/** The ledger with one accept of `chars` characters on `day`; days beyond KEPT_DAYS dropped (the total keeps them). */
export function recordAccept(ledger: SavingsLedger, day: string, chars: number): SavingsLedger {
  const today = ledger.days[day] ?? { accepts: 0, chars: 0 };
  const days = { ...ledger.days, [day]: { accepts: today.accepts + 1, chars: today.chars + chars } };
  for (const old of Object.keys(days).sort().slice(0, Math.max(0, Object.keys(days).length - KEPT_DAYS))) delete days[old];
  return { days, total: { accepts: ledger.total.accepts + 1, chars: ledger.total.chars + chars } };
}

/** Keystrokes saved: characters accepted, less the key each accept took. */
export function keystrokesSaved(d: DaySavings): number {
  return Math.max(0, d.chars - d.accepts);
}

/** The local calendar day of `date`, 'YYYY-MM-DD'. */
export function localDay(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}
