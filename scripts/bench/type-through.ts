// Typing a text into a CompletionEngine a character at a time, as the editor asks (the benches of served
// predictions share it).

import { CompletionEngine, DEFAULT_COMPLETION_SETTINGS, type CompletionPredictor } from '../../src/core/completion/completion-engine.js';

/**
 * Types `text` a character at a time through an engine over `predictor`, `pauseMs` between keys (none:
 * back to back): each request's latency, when it reached the predictor.
 */
export async function typeThrough(predictor: CompletionPredictor, text: string, pauseMs = 0): Promise<{ predict: number[] }> {
  const engine = new CompletionEngine({ getPredictor: () => predictor });
  const signal = new AbortController().signal;
  const predict: number[] = [];
  for (let i = 1; i <= text.length; i++) {
    const textBefore = text.slice(0, i);
    const character = i - (textBefore.lastIndexOf('\n') + 1);
    const outcome = await engine.complete({ docKey: 'doc', textBefore, lineSuffix: '', character, explicit: false, settings: DEFAULT_COMPLETION_SETTINGS }, signal);
    // Requests answered from the type-through cache never reach the predictor (nothing else skips before it here).
    if (!(outcome.kind === 'items' && outcome.cached)) predict.push(outcome.latencyMs);
    if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
  }
  return { predict };
}
