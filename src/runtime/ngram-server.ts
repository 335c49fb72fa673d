// The n-gram server: a child process of the editor that serves the workspace's n-gram model while the
// network trains (core/ngram/ngram-serving.ts: the Kneser-Ney model mixed with the document cache). The
// training process writes the model to a file (io/handover-file.ts); this process loads it and answers the
// calls the completion engine and the perplexity tracker make on it (remote-ngram.ts is the editor's end).
//
// Why a process: in the extension host the model's arrival (60 MB for a 50 MB workspace) set off garbage
// collections of 100–160 ms, and every prediction and file score ran on the host's thread. Here a call's
// work blocks nobody but the next call. Calls are answered in order; scoring a file yields between runs of
// ~8 ms (and idles as long, so that it takes about half a core), and a prediction that comes meanwhile is
// answered in between. The process ends when the editor closes the channel or goes away.

import { readFileSync } from 'node:fs';
import { KneserNey } from '../core/ngram/kneser-ney.js';
import { NgramServing } from '../core/ngram/ngram-serving.js';
import { Vocabulary } from '../core/vocabulary.js';
import type { FromNgramServer, NgramCall, ToNgramServer } from './ngram-protocol.js';
import { workerPort } from './worker-channel.js';

const port = workerPort<FromNgramServer, ToNgramServer>();
let serving: NgramServing | undefined;

function open(m: Extract<ToNgramServer, { type: 'open' }>): void {
  const t0 = performance.now();
  try {
    const vocab = Vocabulary.fromJSON(m.words);
    const bytes = readFileSync(m.file);
    const ngram = KneserNey.fromBytes(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    serving = new NgramServing(ngram, vocab, m.mode);
    port.postMessage({ type: 'ready', vocabSize: vocab.size, order: ngram.order, initialState: serving.model.initialState(), loadMs: performance.now() - t0 });
  } catch (e) {
    port.postMessage({ type: 'error', message: (e as Error).message });
    port.close();
  }
}

function call(s: NgramServing, c: NgramCall): Promise<unknown> {
  switch (c.op) {
    case 'run':
      return s.model.run(c.ids, c.state);
    case 'advance':
      return s.model.advance ? s.model.advance(c.ids, c.state) : s.model.run(c.ids, c.state).then((r) => r.state);
    case 'scoreChunk':
      return s.scorer.scoreChunk(c.ids, c.state);
    case 'scoreSequence':
      return s.scorer.scoreSequence(c.ids);
  }
}

port.onMessage((m) => {
  if (m.type === 'open') return open(m);
  const s = serving;
  if (!s) {
    port.postMessage({ type: 'failed', id: m.id, message: 'the n-gram model is not open' });
    return;
  }
  call(s, m).then(
    (result) => port.postMessage({ type: 'reply', id: m.id, result } as FromNgramServer),
    (e: unknown) => port.postMessage({ type: 'failed', id: m.id, message: e instanceof Error ? e.message : String(e) }),
  );
});
