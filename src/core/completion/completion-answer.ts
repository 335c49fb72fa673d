// What a completion request is answered with once it reaches the model: the ghost text's phrase, the
// alternatives of an explicit request, or the continuation of the suggest widget's selected item, and the
// reason when there is nothing to show. Pure logic over a predictor's three calls (contextState, topK,
// continuePhrase); the engine (completion-engine.ts) runs it in this thread over a Predictor, and the model
// server (runtime/main/model-server.ts) runs it where its model is, so that a request costs the editor one message
// to that process instead of one per model call.
//
// Coordinates as in completion-engine.ts: columns are UTF-16 code units on the cursor's line; text mode's
// leading space of a token is in the document already, so the predictor's partial " qu" is the typed "qu".

import type { ContextState, Predictor, Suggestion } from '../predict/predictor.js';
import type { EngineItem } from './type-through-cache.js';

/** The suggest widget's selected item: it would replace [startCharacter, endCharacter) of the cursor's line with text. */
export interface SelectedCompletion {
  startCharacter: number;
  endCharacter: number;
  text: string;
}

/** A request as the model sees it, once the engine has checked it and found nothing to answer without it. */
export interface PredictionQuery {
  /** The document's text from its start up to the cursor. */
  textBefore: string;
  /** The cursor's column (UTF-16) on its line. */
  character: number;
  /** Several alternatives instead of one phrase. */
  explicit: boolean;
  /** The suggest widget's selected item, checked to hold the cursor. */
  selected?: SelectedCompletion;
  /** Most words after the word being typed. */
  maxWords: number;
  /** Threshold on the phrase's geometric mean probability. */
  minConfidence: number;
}

/** Why the model has nothing to show. */
export type PredictionSkipReason =
  | 'no-prediction' //    the model has nothing to add (unknown word, a line break is next, maxWords 0, …)
  | 'below-threshold' //  the best phrase is below minConfidence
  | 'selection-mismatch'; // the model would not extend the suggest widget's selected item as it stands

export type PredictionAnswer = { kind: 'items'; items: EngineItem[] } | { kind: 'skip'; reason: PredictionSkipReason; detail?: string };

/**
 * What answering uses of a Predictor (a Predictor is one). `answer`, when present, answers a whole query
 * where the model runs (another process): the engine then makes that one call instead of the others, and
 * aborts `signal` when the request no longer wants the answer (it may then reject at once).
 */
export type CompletionPredictor = Pick<Predictor, 'contextState' | 'topK' | 'continuePhrase'> & {
  answer?: (query: PredictionQuery, signal?: AbortSignal) => Promise<PredictionAnswer>;
};

/** Alternatives on an explicit request. */
export const MAX_ALTERNATIVES = 3;
/** First words considered for the alternatives (some turn out to be duplicates). */
const ALTERNATIVE_CANDIDATES = 8;

const BLANK_TOKEN = /^(?:\s+|<eos>)$/u;

/**
 * Answers `query` with `predictor`'s calls. `stopped` is asked after each call: what it returns (the request
 * was superseded, cancelled, …) is answered at once instead.
 */
export function answerQuery<S>(predictor: CompletionPredictor, query: PredictionQuery, stopped: () => S | undefined = () => undefined): Promise<PredictionAnswer | S> {
  const run: Run<S> = { predictor, stopped, query };
  if (query.selected) return extendSelection(run, query.selected);
  return query.explicit ? alternatives(run) : phrase(run);
}

interface Run<S> {
  predictor: CompletionPredictor;
  stopped: () => S | undefined;
  query: PredictionQuery;
}

/** Ghost text: the rest of the typed word, and the next words while the model is confident. */
async function phrase<S>(run: Run<S>): Promise<PredictionAnswer | S> {
  const { predictor, stopped, query } = run;
  const text = query.textBefore;
  const ctx = await predictor.contextState(text);
  let stop = stopped();
  if (stop) return stop;
  const typed = typedWord(ctx.partial);
  const maxTokens = query.maxWords + (typed ? 1 : 0);
  if (maxTokens === 0) return skip('no-prediction', 'maxWords is 0 and no word is being typed');
  const phrase = await predictor.continuePhrase(text, { maxWords: maxTokens, minProb: query.minConfidence, stopAtNewline: true });
  if ((stop = stopped())) return stop;
  if (phrase.tokens.length === 0) return explainNothing(run, text, ctx, typed);
  if (phrase.text === '') return skip('no-prediction', `${quote(typed)} is a whole word and no next word qualifies`);
  const { character } = query;
  return items([{ insertText: typed + phrase.text, startCharacter: character - typed.length, endCharacter: character, confidence: phrase.meanProb }]);
}

/**
 * Up to MAX_ALTERNATIVES phrases with distinct first words, most likely first word first. The user asked,
 * so a first word is shown even when its phrase is below the threshold.
 */
async function alternatives<S>(run: Run<S>): Promise<PredictionAnswer | S> {
  const { predictor, stopped, query } = run;
  const { textBefore: text, character } = query;
  const ctx = await predictor.contextState(text);
  let stop = stopped();
  if (stop) return stop;
  const typed = typedWord(ctx.partial);
  const maxTokens = Math.max(1, query.maxWords + (typed ? 1 : 0));
  const candidates = await predictor.topK(text, ALTERNATIVE_CANDIDATES);
  if ((stop = stopped())) return stop;
  const found: EngineItem[] = [];
  for (const first of candidates) {
    if (found.length === MAX_ALTERNATIVES) break;
    const alt = await alternative(run, text, first, maxTokens);
    if ((stop = stopped())) return stop;
    if (!alt) continue;
    const insertText = typed + alt.text;
    if (insertText === typed || found.some((f) => f.insertText === insertText)) continue;
    found.push({ insertText, startCharacter: character - typed.length, endCharacter: character, confidence: alt.confidence });
  }
  if (found.length === 0) {
    return skip('no-prediction', typed ? `no word of the vocabulary starts with ${quote(typed)}` : 'the model has no word to suggest');
  }
  return items(found);
}

/**
 * The phrase that starts with the token `first`, as text to insert after `text`; undefined when greedy
 * continuation would turn `first` into a longer, more likely word (that word is an alternative of its own).
 */
async function alternative<S>(run: Run<S>, text: string, first: Suggestion, maxTokens: number): Promise<{ text: string; confidence: number } | undefined> {
  const { predictor, query } = run;
  const opts = { minProb: query.minConfidence, stopAtNewline: true };
  const withFirst = text + first.text;
  const ctx = await predictor.contextState(withFirst);
  if (run.stopped()) return undefined;
  if (ctx.partial === '') {
    // A complete token (punctuation): it is in the context now; continue after it.
    if (maxTokens === 1) return { text: first.text, confidence: first.prob };
    const rest = await predictor.continuePhrase(withFirst, { ...opts, maxWords: maxTokens - 1 });
    return { text: first.text + rest.text, confidence: geometricMean([first.prob, ...rest.probs]) };
  }
  if (ctx.partial !== first.token) return undefined; // the token does not stand alone after this text
  const phrase = await predictor.continuePhrase(withFirst, { ...opts, maxWords: maxTokens });
  if (phrase.tokens.length === 0) return { text: first.text, confidence: first.prob };
  if (phrase.tokens[0] !== first.token) return undefined;
  return { text: first.text + phrase.text, confidence: geometricMean([first.prob, ...phrase.probs.slice(1)]) };
}

/**
 * With the suggest widget open: the selected item, applied, then the model's continuation, over the
 * item's range. The selected text is taken as a whole word: when the model would rather complete it into
 * a longer word, nothing is shown.
 */
async function extendSelection<S>(run: Run<S>, selected: SelectedCompletion): Promise<PredictionAnswer | S> {
  const { predictor, stopped, query } = run;
  const { textBefore, character } = query;
  const applied = textBefore.slice(0, textBefore.length - character + selected.startCharacter) + selected.text;
  const ctx = await predictor.contextState(applied);
  let stop = stopped();
  if (stop) return stop;
  const word = typedWord(ctx.partial);
  if (query.maxWords === 0) return skip('no-prediction', 'maxWords is 0: nothing to add to the selected item');
  const phrase = await predictor.continuePhrase(applied, { maxWords: query.maxWords + (word ? 1 : 0), minProb: query.minConfidence, stopAtNewline: true });
  if ((stop = stopped())) return stop;
  if (phrase.tokens.length === 0) return explainNothing(run, applied, ctx, word);
  if (word && phrase.tokens[0] !== ctx.partial) {
    return skip('selection-mismatch', `the model would complete the selected ${quote(selected.text)} as ${quote(phrase.tokens[0]!)}`);
  }
  if (phrase.text === '') return skip('no-prediction', `no word after the selected ${quote(selected.text)} qualifies`);
  return items([
    { insertText: selected.text + phrase.text, startCharacter: selected.startCharacter, endCharacter: selected.endCharacter, confidence: phrase.meanProb },
  ]);
}

/** Why continuePhrase found nothing: no candidate at all, a token it never shows, or a low probability. */
async function explainNothing<S>(run: Run<S>, text: string, ctx: ContextState, typed: string): Promise<PredictionAnswer | S> {
  const [best] = await run.predictor.topK(text, 1, { includeWhitespace: true });
  const stop = run.stopped();
  if (stop) return stop;
  if (!best) return skip('no-prediction', typed ? `no word of the vocabulary starts with ${quote(typed)}` : 'the model has no token to suggest');
  if (!ctx.partial) {
    // continuePhrase takes the most likely token overall: <unk> (never suggested, so not `best`) or whitespace.
    if (maxOf(ctx.logProbs) > best.logProb) return skip('no-prediction', 'the most likely next token is an unknown word');
    if (BLANK_TOKEN.test(best.token)) return skip('no-prediction', `the most likely next token is whitespace (${quote(best.token)})`);
  }
  const p = ctx.partial ? best.prob : best.rawProb;
  return skip('below-threshold', `the most likely ${quote(best.token)} has p = ${p.toFixed(3)} < minConfidence ${run.query.minConfidence}`);
}

/** The typed part of the predictor's partial: text mode's leading space is in the document already. */
function typedWord(partial: string): string {
  return partial.startsWith(' ') ? partial.slice(1) : partial;
}

function skip(reason: PredictionSkipReason, detail: string): PredictionAnswer {
  return { kind: 'skip', reason, detail };
}

function items(list: EngineItem[]): PredictionAnswer {
  return { kind: 'items', items: list };
}

function quote(s: string): string {
  return JSON.stringify(s);
}

function geometricMean(ps: number[]): number {
  return Math.exp(ps.reduce((a, p) => a + Math.log(p), 0) / ps.length);
}

function maxOf(a: Float32Array): number {
  let m = -Infinity;
  for (let i = 0; i < a.length; i++) if (a[i]! > m) m = a[i]!;
  return m;
}
