// What accepted ghost text saved the user, counted on this machine (the extension's global state) and never
// sent anywhere: the provider reports each suggestion it shows, and an edit that inserts a piece of it
// where it belongs is an accept (core/completion/savings.ts says how one is recognised).

import * as vscode from 'vscode';
import { acceptedChars, ledgerFrom, localDay, recordAccept, type DaySavings, type Offered, type SavingsLedger } from '../core/completion/savings.js';

const LEDGER_KEY = 'nextword.savings';

export class SavingsTracker implements vscode.Disposable {
  private ledger: SavingsLedger;
  /** The last suggestion shown, per document. */
  private readonly offers = new Map<string, Offered>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];

  constructor(
    private readonly globalState: vscode.Memento,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.ledger = ledgerFrom(globalState.get(LEDGER_KEY));
    this.disposables.push(
      vscode.workspace.onDidChangeTextDocument((e) => this.edited(e)),
      vscode.workspace.onDidCloseTextDocument((doc) => this.offers.delete(doc.uri.toString())),
    );
  }

  /** The suggestion now shown in `doc` (undefined: none). */
  offered(doc: vscode.TextDocument, offer: Offered | undefined): void {
    if (offer) this.offers.set(doc.uri.toString(), offer);
    else this.offers.delete(doc.uri.toString());
  }

  /** Today's figures (undefined before the first accept of the day) and the total. */
  figures(now = new Date()): { today?: DaySavings; total: DaySavings } {
    const today = this.ledger.days[localDay(now)];
    return { ...(today ? { today } : {}), total: this.ledger.total };
  }

  /** The last `n` local days, oldest first and today last, with their figures where there were accepts. */
  recentDays(n: number, now = new Date()): { day: string; savings?: DaySavings }[] {
    const days: { day: string; savings?: DaySavings }[] = [];
    for (let i = n - 1; i >= 0; i--) {
      const day = localDay(new Date(now.getFullYear(), now.getMonth(), now.getDate() - i));
      const savings = this.ledger.days[day];
      days.push(savings ? { day, savings } : { day });
    }
    return days;
  }

  private edited(e: vscode.TextDocumentChangeEvent): void {
    // One edit at a time (an accept is one); undo and redo replay edits, which are not accepts.
    if (e.contentChanges.length !== 1 || e.reason !== undefined) return;
    const offer = this.offers.get(e.document.uri.toString());
    const change = e.contentChanges[0]!;
    if (!offer || change.range.start.line !== change.range.end.line) return;
    const chars = acceptedChars(offer, { line: change.range.start.line, character: change.range.start.character, removed: change.rangeLength, inserted: change.text });
    if (chars === 0) return;
    this.ledger = recordAccept(this.ledger, localDay(new Date()), chars);
    void this.globalState.update(LEDGER_KEY, this.ledger).then(undefined, (err: unknown) => this.log.warn(`saving the keystroke count failed: ${String(err)}`));
    this.changed.fire();
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
