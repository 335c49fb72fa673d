// The completion logic behind the editor's inline completions, free of any editor API (Tabby's agent vs its
// `InlineCompletionProvider.ts`): the extension's provider converts types and turns its CancellationToken
// into an AbortSignal; debounce, the type-through cache, "latest request wins" and the reasons for showing
// nothing without the model live here, what the model makes of a request in completion-answer.ts.
//
// Coordinates: columns are UTF-16 code units on the cursor's line (VS Code's `character`). An item replaces
// [startCharacter, endCharacter) of that line: the word being typed is replaced by the whole word plus what
// follows, so that VS Code's typing-through and `acceptNextWord` work on it. Text mode attaches a single
// leading space to a token, so the predictor's partial " qu" is the typed "qu" (the space stays in the
// document) and its token " quick" becomes the item "quick …" over the columns of "qu".
//
// The predictor caches recurrent states by context and advances them incrementally, so every request passes
// the text before the cursor from a start that stays put (the document's, or a line the editor's window
// starts at: request-window.ts): consecutive keystrokes then extend a cached context (typing inside a
// word runs no model token, a new word runs just that word), and the predictor feeds only what is new since a cached context and bounds cold starts.

import { answerQuery, type CompletionPredictor, type PredictionAnswer, type PredictionQuery, type SelectedCompletion } from './completion-answer.js';
import { LatencyStats, type Percentiles } from './latency-stats.js';
import { isProseAt } from './prose-scope.js';
import { TypeThroughCache, type EngineItem } from './type-through-cache.js';

export type { EngineItem } from './type-through-cache.js';
export { MAX_ALTERNATIVES, type CompletionPredictor, type PredictionAnswer, type PredictionQuery, type SelectedCompletion } from './completion-answer.js';

export interface CompletionSettings {
  /** Most words after the word being typed (0: only complete the current word). Punctuation counts as a word. */
  maxWords: number;
  /** Threshold on the geometric mean of the phrase's token probabilities, in [0, 1]. */
  minConfidence: number;
  /** Wait after a keystroke before predicting; a newer request cancels the wait. Explicit requests do not wait. */
  debounceMs: number;
  /** No completion in a line longer than this (minified or generated text). */
  maxLineLength: number;
  /** `nextword.enable` for the document's language; false answers 'disabled-language'. Default true. */
  enabled?: boolean;
  /** `automatic` (default): as VS Code asks while typing; `onRequest`: only when asked (Alt+\), else 'on-request-only'. */
  trigger?: 'automatic' | 'onRequest';
  /** `everywhere` (default), or `prose`: in code only inside comments and strings (prose-scope.ts), else 'not-prose'. */
  scope?: 'everywhere' | 'prose';
}

/**
 * The extension's default settings (package.json's `nextword.completion.*` defaults, checked by a test), which
 * `nextword eval` also simulates typing with.
 */
/** minConfidence trades keystroke savings for suggestions that are taken: chosen on validation files (docs/quality.md). */
export const DEFAULT_COMPLETION_SETTINGS: Readonly<CompletionSettings> = Object.freeze({ maxWords: 4, minConfidence: 0.4, debounceMs: 0, maxLineLength: 2000 });

export interface CompletionRequest {
  /** Identifies the document (its uri): "latest request wins" and the cache are per document. */
  docKey: string;
  /**
   * The text before the cursor: from the document's start, or from the start of a line above the cursor that
   * stays put while the user types (the editor's window, request-window.ts).
   */
  textBefore: string;
  /** The rest of the cursor's line after the cursor. */
  lineSuffix: string;
  /** The cursor's column (UTF-16) on its line: the length of textBefore's last line. */
  character: number;
  /** Invoked by the user (Alt+\): several alternatives, no debounce. */
  explicit: boolean;
  /** The document's language (VS Code's id), for settings.scope. */
  languageId?: string;
  /** Set while the suggest widget is open: the item must extend the selected suggestion, over its range. */
  selected?: SelectedCompletion;
  settings: CompletionSettings;
}

/** Why nothing is shown; the extension logs it. */
export type SkipReason =
  | 'invalid-request' //  the request breaks its contract (a bug in the caller): detail says how
  | 'no-model' //         no model is loaded
  | 'snoozed' //          completions are snoozed
  | 'disabled-language' // settings.enabled is false
  | 'on-request-only' //  settings.trigger is onRequest and the request is automatic
  | 'not-prose' //        settings.scope is prose and the cursor is in code (not in a comment or string)
  | 'long-line' //        the line is over maxLineLength
  | 'mid-word' //         a word character follows the cursor (or the selected range)
  | 'superseded' //       a newer request for the same document arrived
  | 'cancelled' //        the caller's signal aborted, or the document was forgotten
  | 'model-changed' //    the model was replaced while predicting
  | 'no-prediction' //    the model has nothing to add (unknown word, a line break is next, maxWords 0, …)
  | 'below-threshold' //  the best phrase is below minConfidence
  | 'selection-mismatch' // the model would not extend the suggest widget's selected item as it stands
  | 'error'; //           the predictor failed: detail has the message

export type CompletionOutcome =
  | { kind: 'items'; items: EngineItem[]; cached: boolean; latencyMs: number }
  | { kind: 'skip'; reason: SkipReason; detail?: string; latencyMs: number };

export interface CompletionEngineDeps {
  /** The current model's predictor, or undefined while none is loaded. A new object means a new model. */
  getPredictor: () => CompletionPredictor | undefined;
  /**
   * While no model is loaded: resolves with the predictor once one is (undefined when none will be: no model
   * could load), or early when the signal aborts. A request made meanwhile then waits for it instead of
   * showing nothing: VS Code asks again only at the next key, so a user who paused as the editor started
   * would see nothing until typing on. Without it, such a request is answered 'no-model' at once.
   */
  waitForPredictor?: (signal: AbortSignal) => Promise<CompletionPredictor | undefined>;
  /** Clock in ms for latencies and snoozing. Default performance.now(). */
  now?: () => number;
  /** Resolves after ms, or early when the signal aborts (it may also reject then). Default setTimeout. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export interface CompletionStats {
  requests: number;
  /** Outcomes with items, cached ones included. */
  shown: number;
  /** Outcomes answered from the type-through cache. */
  cached: number;
  /** Requests made before the model was loaded that waited for it and went on with it (waitForPredictor). */
  waitedForModel: number;
  /** Contexts read ahead at a cursor the user moved to (prepare). */
  prepared: number;
  skipped: Partial<Record<SkipReason, number>>;
  /** Outcomes with items: from the request to the answer, debounce included. */
  latency: Percentiles;
  /** Requests that reached the predictor: time spent predicting (after the debounce), whatever the outcome. */
  predict: Percentiles;
}

const WORD_CHAR = /^[\p{L}\p{M}\p{N}_$]/u;
const LINE_BREAK = /[\n\r]/;

type Answer = { kind: 'items'; items: EngineItem[]; cached: boolean } | { kind: 'skip'; reason: SkipReason; detail?: string };

/** One request in flight for a document. */
interface Ticket {
  readonly docKey: string;
  /** Aborted when the request is superseded, forgotten, or its caller's signal aborts: ends the debounce early. */
  readonly controller: AbortController;
  detach: () => void;
  forgotten: boolean;
  /** When the predictor was first called, for the predict latency. */
  predictStart?: number;
  /** Time spent waiting for a model to load (not counted in the latency: the request was made too early). */
  waitedMs?: number;
}

export class CompletionEngine {
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly cache = new TypeThroughCache();
  private readonly inflight = new Map<string, Ticket>();
  private snoozeUntil: number | undefined;
  private counts = { requests: 0, shown: 0, cached: 0, waitedForModel: 0, prepared: 0 };
  private skipped: Partial<Record<SkipReason, number>> = {};
  private readonly latency = new LatencyStats();
  private readonly predictLatency = new LatencyStats();

  constructor(private readonly deps: CompletionEngineDeps) {
    if (typeof deps?.getPredictor !== 'function') throw new TypeError('CompletionEngine: deps.getPredictor must be a function');
    this.now = deps.now ?? (() => performance.now());
    this.sleep = deps.sleep ?? abortableSleep;
  }

  /** Answers one request; never rejects (failures are a 'skip' with reason 'error'). */
  async complete(req: CompletionRequest, signal: AbortSignal): Promise<CompletionOutcome> {
    const start = this.now();
    this.counts.requests++;
    const invalid = checkRequest(req);
    if (invalid !== undefined) return this.finish(start, undefined, skip('invalid-request', invalid));
    const ticket = this.begin(req.docKey, signal);
    try {
      return this.finish(start, ticket, await this.answer(req, signal, ticket));
    } catch (e) {
      return this.finish(start, ticket, skip('error', e instanceof Error ? e.message : String(e)));
    } finally {
      ticket.detach();
      if (this.inflight.get(ticket.docKey) === ticket) this.inflight.delete(ticket.docKey);
    }
  }

  /** Shows nothing until `untilMs` on the engine's clock (deps.now). */
  snooze(untilMs: number): void {
    if (!Number.isFinite(untilMs)) throw new Error(`CompletionEngine.snooze: untilMs must be a finite time (got ${untilMs})`);
    this.snoozeUntil = untilMs;
  }

  /** Snoozes for `durationMs` from now; returns the end on the engine's clock. */
  snoozeFor(durationMs: number): number {
    if (!(durationMs >= 0) || !Number.isFinite(durationMs)) throw new Error(`CompletionEngine.snoozeFor: durationMs must be a finite number ≥ 0 (got ${durationMs})`);
    const until = this.now() + durationMs;
    this.snooze(until);
    return until;
  }

  unsnooze(): void {
    this.snoozeUntil = undefined;
  }

  isSnoozed(): boolean {
    return this.snoozedUntil() !== undefined;
  }

  /** The end of the snooze on the engine's clock, or undefined when not snoozed. */
  snoozedUntil(): number | undefined {
    if (this.snoozeUntil !== undefined && this.now() >= this.snoozeUntil) this.snoozeUntil = undefined;
    return this.snoozeUntil;
  }

  /**
   * Reads the context before a cursor the user moved to (a file opened, a click), before anything is typed
   * there: the first request at that cursor then finds it read, instead of running the model over the
   * whole window first (several milliseconds for a trained model). Counted in `prepared`; never rejects.
   */
  async prepare(textBefore: string): Promise<void> {
    const predictor = this.deps.getPredictor();
    if (!predictor || this.isSnoozed() || typeof textBefore !== 'string') return;
    this.counts.prepared++;
    try {
      await predictor.contextState(textBefore);
    } catch {
      // The request at this cursor, if any, meets the same failure and reports it.
    }
  }

  /** Forgets every shown suggestion (call when the model changes; requests in flight notice by themselves). */
  reset(): void {
    this.cache.clear();
  }

  /** A document was closed: cancels its request in flight and drops its cache entry. */
  forget(docKey: string): void {
    const ticket = this.inflight.get(docKey);
    if (ticket) {
      ticket.forgotten = true;
      this.inflight.delete(docKey);
      ticket.controller.abort();
    }
    this.cache.delete(docKey);
  }

  stats(): CompletionStats {
    return { ...this.counts, skipped: { ...this.skipped }, latency: this.latency.percentiles(), predict: this.predictLatency.percentiles() };
  }

  resetStats(): void {
    this.counts = { requests: 0, shown: 0, cached: 0, waitedForModel: 0, prepared: 0 };
    this.skipped = {};
    this.latency.clear();
    this.predictLatency.clear();
  }

  // ------------------------------------------------------------------------------------------------
  // One request.

  private async answer(req: CompletionRequest, signal: AbortSignal, ticket: Ticket): Promise<Answer> {
    let predictor = this.deps.getPredictor();
    const stopped = (): Answer | undefined => {
      if (ticket.forgotten) return skip('cancelled', 'the document was closed');
      if (this.inflight.get(req.docKey) !== ticket) return skip('superseded');
      if (signal.aborted) return skip('cancelled');
      if (this.deps.getPredictor() !== predictor) return skip('model-changed');
      return undefined;
    };
    if (!predictor && this.deps.waitForPredictor) {
      const waitStart = this.now();
      predictor = await this.deps.waitForPredictor(ticket.controller.signal);
      ticket.waitedMs = this.now() - waitStart;
      // Only a wait that ended with a model: with none to load, every request would count.
      if (predictor) this.counts.waitedForModel++;
    }
    if (!predictor) return stopped() ?? skip('no-model');
    let stop = stopped();
    if (stop) return stop;

    // Answers that need no model, at once.
    const { settings, character, lineSuffix, selected } = req;
    const until = this.snoozedUntil();
    if (until !== undefined) return skip('snoozed', `for ${Math.ceil((until - this.now()) / 1000)} s more`);
    if (settings.enabled === false) return skip('disabled-language');
    if (settings.trigger === 'onRequest' && !req.explicit) return skip('on-request-only');
    if (settings.scope === 'prose' && !isProseAt(req.textBefore, req.languageId ?? 'plaintext')) return skip('not-prose', req.languageId);
    const lineLength = character + lineSuffix.length;
    if (lineLength > settings.maxLineLength) return skip('long-line', `the line has ${lineLength} characters (maxLineLength ${settings.maxLineLength})`);
    let after = lineSuffix;
    if (selected) {
      const { startCharacter: s, endCharacter: e } = selected;
      if (!(s <= character && character <= e && e <= lineLength)) {
        return skip('selection-mismatch', `the selected item's range [${s}, ${e}) does not hold the cursor (column ${character}, line length ${lineLength})`);
      }
      after = lineSuffix.slice(e - character);
    }
    if (WORD_CHAR.test(after)) return skip('mid-word');

    if (!selected) {
      const items = this.cache.lookup(req.docKey, req, predictor);
      if (items) return { kind: 'items', items, cached: true };
    }
    this.cache.delete(req.docKey);

    if (!req.explicit && settings.debounceMs > 0) {
      try {
        await this.sleep(settings.debounceMs, ticket.controller.signal);
      } catch (e) {
        if (!ticket.controller.signal.aborted) throw e;
      }
      if ((stop = stopped())) return stop;
    }

    ticket.predictStart = this.now();
    const query: PredictionQuery = { textBefore: req.textBefore, character, explicit: req.explicit, maxWords: settings.maxWords, minConfidence: settings.minConfidence };
    if (selected) query.selected = selected;
    // A predictor in another process answers the whole query in one call; here, one call per model question.
    let predicted: PredictionAnswer | Answer;
    try {
      predicted = predictor.answer ? await predictor.answer(query, ticket.controller.signal) : await answerQuery(predictor, query, stopped);
    } catch (e) {
      // A request that was superseded or cancelled meanwhile says so, whatever the call made of it.
      if ((stop = stopped())) return stop;
      throw e;
    }
    if ((stop = stopped())) return stop;
    const answer: Answer = predicted.kind === 'items' ? { ...predicted, cached: false } : predicted;
    if (answer.kind === 'items' && !selected) {
      this.cache.set(req.docKey, { source: predictor, textBefore: req.textBefore, lineSuffix, character, explicit: req.explicit, items: answer.items });
    }
    return answer;
  }

  // ------------------------------------------------------------------------------------------------
  // Bookkeeping.

  /** Registers the newest request for its document; the one before it is superseded. */
  private begin(docKey: string, signal: AbortSignal): Ticket {
    this.inflight.get(docKey)?.controller.abort();
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    if (signal.aborted) controller.abort();
    else signal.addEventListener('abort', onAbort, { once: true });
    const ticket: Ticket = { docKey, controller, detach: () => signal.removeEventListener('abort', onAbort), forgotten: false };
    this.inflight.set(docKey, ticket);
    return ticket;
  }

  private finish(start: number, ticket: Ticket | undefined, answer: Answer): CompletionOutcome {
    const end = this.now();
    const latencyMs = Math.max(0, end - start - (ticket?.waitedMs ?? 0));
    if (ticket?.predictStart !== undefined) this.predictLatency.add(Math.max(0, end - ticket.predictStart));
    if (answer.kind === 'items') {
      this.counts.shown++;
      if (answer.cached) this.counts.cached++;
      this.latency.add(latencyMs);
      return { ...answer, latencyMs };
    }
    this.skipped[answer.reason] = (this.skipped[answer.reason] ?? 0) + 1;
    return { ...answer, latencyMs };
  }
}

function skip(reason: SkipReason, detail?: string): Answer {
  return detail === undefined ? { kind: 'skip', reason } : { kind: 'skip', reason, detail };
}

/** The contract of a request, checked so a caller's bug reads as one instead of as a wrong suggestion. */
function checkRequest(req: CompletionRequest): string | undefined {
  if (req === null || typeof req !== 'object') return 'the request must be an object';
  const { docKey, textBefore, lineSuffix, character, settings, selected } = req;
  if (typeof docKey !== 'string') return 'docKey must be a string';
  if (typeof textBefore !== 'string' || typeof lineSuffix !== 'string') return 'textBefore and lineSuffix must be strings';
  if (LINE_BREAK.test(lineSuffix)) return 'lineSuffix must not hold a line break (it is the rest of the cursor\'s line)';
  if (!Number.isInteger(character) || character < 0 || character > textBefore.length) {
    return `character must be an integer in [0, ${textBefore.length}] (got ${character})`;
  }
  if (settings === null || typeof settings !== 'object') return 'settings are missing';
  const { maxWords, minConfidence, debounceMs, maxLineLength } = settings;
  if (!Number.isInteger(maxWords) || maxWords < 0) return `settings.maxWords must be an integer ≥ 0 (got ${maxWords})`;
  if (!(minConfidence >= 0 && minConfidence <= 1)) return `settings.minConfidence must lie in [0, 1] (got ${minConfidence})`;
  if (!(debounceMs >= 0) || !Number.isFinite(debounceMs)) return `settings.debounceMs must be a finite number ≥ 0 (got ${debounceMs})`;
  if (!Number.isInteger(maxLineLength) || maxLineLength < 1) return `settings.maxLineLength must be a positive integer (got ${maxLineLength})`;
  if (selected !== undefined) {
    const { startCharacter: s, endCharacter: e, text } = selected;
    if (!Number.isInteger(s) || !Number.isInteger(e) || s < 0 || e < s) return `selected range [${s}, ${e}) is not a range of columns`;
    if (typeof text !== 'string' || LINE_BREAK.test(text)) return 'selected.text must be a string on one line';
  }
  // textBefore's last line must be `character` long. A long line is refused before it is read, so this scan
  // costs at most maxLineLength.
  if (character + lineSuffix.length <= maxLineLength) {
    const lineStart = textBefore.length - character;
    for (let i = lineStart; i < textBefore.length; i++) {
      if (isLineBreak(textBefore.charCodeAt(i))) return `character ${character} does not match textBefore, whose last line is shorter`;
    }
    if (lineStart > 0 && !isLineBreak(textBefore.charCodeAt(lineStart - 1))) {
      return `character ${character} does not match textBefore, whose last line is longer`;
    }
  }
  return undefined;
}

/** VS Code's line breaks: \n, \r\n and \r (not U+2028/U+2029, which it shows inside a line). */
function isLineBreak(c: number): boolean {
  return c === 0x0a || c === 0x0d;
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
