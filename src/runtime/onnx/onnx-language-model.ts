// The exported ONNX model (graphs/inference-graph.ts) as a LanguageModel: one stream (B = 1), the recurrent
// state carried in and out by the caller, so prediction advances incrementally from any cached state.
//
// Shapes: n ids in a call, m ≤ chunkSize ids in one session run, V vocabulary, L layers, H hidden.
// The session sees tokens [m, 1] and h0/c0 [L, 1, H]; it returns log_probs [m, 1, V] and hT/cT [L, 1, H].

import type { LanguageModel, RecurrentState } from '../../core/model/language-model.js';
import { validateModelConfig, type ModelConfig } from '../../core/model/model-config.js';
import { createSession, floatData, floatTensor, idsTensor, ort } from './ort-session.js';

/**
 * Ids per session run by default. A run holds several [m, V] tensors (the decoder's products, the logits,
 * the log-probabilities) and onnxruntime's arena keeps the largest it has needed, so a long context in
 * one run would leave the process larger for good; runs of 64 are as fast (docs/speed-and-memory.md).
 */
export const DEFAULT_CHUNK_SIZE = 64;

export interface OnnxLanguageModelOptions {
  /** Intra-op threads; 0 or absent lets onnxruntime choose. */
  threads?: number;
  /** Most ids per session run (default DEFAULT_CHUNK_SIZE). A longer input is run in pieces, carrying the state. */
  chunkSize?: number;
}

export class OnnxLanguageModel implements LanguageModel {
  readonly vocabSize: number;
  private session: ort.InferenceSession | undefined;
  /** Runs in flight, so release() can wait for them instead of freeing a session under them. */
  private readonly running = new Set<Promise<unknown>>();

  /** The graph's switch for its decoder (optionalLogProbs), when it has one. */
  private readonly switchable: boolean;

  private constructor(
    readonly cfg: ModelConfig,
    session: ort.InferenceSession,
    private readonly chunkSize: number,
  ) {
    this.vocabSize = cfg.vocab;
    this.session = session;
    this.switchable = session.inputNames.includes(WANT_LOG_PROBS);
  }

  /**
   * Loads an inference model built for `cfg`, from its bytes or its file; creating the session is the slow
   * part, so keep the result.
   */
  static async create(onnxBytes: Uint8Array | string, cfg: ModelConfig, opts: OnnxLanguageModelOptions = {}): Promise<OnnxLanguageModel> {
    validateModelConfig(cfg);
    const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
    if (!Number.isInteger(chunkSize) || chunkSize < 1) {
      throw new Error(`OnnxLanguageModel: chunkSize must be a positive integer (got ${chunkSize})`);
    }
    if (typeof onnxBytes === 'string' ? onnxBytes === '' : !(onnxBytes instanceof Uint8Array) || onnxBytes.length === 0) {
      throw new Error('OnnxLanguageModel: the model bytes are empty');
    }
    let session: ort.InferenceSession;
    try {
      session = await createSession(onnxBytes, { threads: opts.threads });
    } catch (e) {
      throw new Error(`OnnxLanguageModel: onnxruntime could not load the model: ${(e as Error).message}`, { cause: e });
    }
    try {
      checkSignature(session, cfg);
    } catch (e) {
      await session.release();
      throw e;
    }
    return new OnnxLanguageModel({ ...cfg }, session, chunkSize);
  }

  initialState(): RecurrentState {
    const size = this.cfg.layers * this.cfg.hidden;
    return this.cfg.cell === 'lstm' ? { h: new Float32Array(size), c: new Float32Array(size) } : { h: new Float32Array(size) };
  }

  run(ids: Int32Array, state: RecurrentState): Promise<{ logProbs: Float32Array; state: RecurrentState }> {
    return this.track(ids, state, (session) => this.runChunks(session, ids, state, true)).then((r) => ({ logProbs: r.logProbs!, state: r.state }));
  }

  /**
   * The state after `ids`. onnxruntime executes every node of a graph whatever outputs are fetched, so only
   * a graph built with optionalLogProbs (inference-graph.ts) skips the decoder here; others run it and the
   * log-probabilities are just not copied out.
   */
  advance(ids: Int32Array, state: RecurrentState): Promise<RecurrentState> {
    return this.track(ids, state, (session) => this.runChunks(session, ids, state, false)).then((r) => r.state);
  }

  private track<T>(ids: Int32Array, state: RecurrentState, run: (session: ort.InferenceSession) => Promise<T>): Promise<T> {
    const session = this.session;
    if (!session) return Promise.reject(new Error('OnnxLanguageModel: run() after release()'));
    try {
      this.checkInput(ids, state);
    } catch (e) {
      return Promise.reject(e);
    }
    const p = run(session);
    this.running.add(p);
    const forget = () => this.running.delete(p);
    p.then(forget, forget);
    return p;
  }

  /** Frees the session once the runs in flight are done. Later runs fail; calling it twice is harmless. */
  async release(): Promise<void> {
    const session = this.session;
    if (!session) return;
    this.session = undefined;
    await Promise.allSettled([...this.running]);
    await session.release();
  }

  private async runChunks(session: ort.InferenceSession, ids: Int32Array, state: RecurrentState, withLogProbs: boolean) {
    const { layers: L, hidden: H, cell } = this.cfg;
    const V = this.vocabSize;
    const n = ids.length;
    const stateDims = [L, 1, H];
    let h = state.h;
    let c = state.c;
    let logProbs: Float32Array | undefined; //                                      [n, V]
    for (let start = 0; start < n; start += this.chunkSize) {
      const part = ids.subarray(start, Math.min(n, start + this.chunkSize));
      const m = part.length;
      const feeds: Record<string, ort.Tensor> = { tokens: idsTensor(part, [m, 1]), h0: floatTensor(h, stateDims) };
      if (cell === 'lstm') feeds.c0 = floatTensor(c!, stateDims);
      if (this.switchable) feeds[WANT_LOG_PROBS] = withLogProbs ? WANTED : NOT_WANTED;
      const out = withLogProbs ? await session.run(feeds) : await session.run(feeds, cell === 'lstm' ? ['hT', 'cT'] : ['hT']);
      if (withLogProbs) {
        const lp = floatData(out.log_probs, 'log_probs'); //                         [m, 1, V]
        expectLength(lp, m * V, 'log_probs');
        if (m === n) logProbs = lp;
        else (logProbs ??= new Float32Array(n * V)).set(lp, start * V);
      }
      h = expectLength(floatData(out.hT, 'hT'), L * H, 'hT');
      if (cell === 'lstm') c = expectLength(floatData(out.cT, 'cT'), L * H, 'cT');
    }
    return { logProbs, state: (cell === 'lstm' ? { h, c: c! } : { h }) as RecurrentState };
  }

  private checkInput(ids: Int32Array, state: RecurrentState): void {
    const { layers: L, hidden: H, cell } = this.cfg;
    if (!(ids instanceof Int32Array) || ids.length < 1) throw new Error('OnnxLanguageModel: run needs at least one id (an Int32Array)');
    const V = this.vocabSize;
    for (let k = 0; k < ids.length; k++) {
      if (!(ids[k]! >= 0 && ids[k]! < V)) throw new Error(`OnnxLanguageModel: ids[${k}] = ${ids[k]} is outside the vocabulary [0, ${V})`);
    }
    if (!(state.h instanceof Float32Array) || state.h.length !== L * H) {
      throw new Error(`OnnxLanguageModel: state.h must be a Float32Array of [L, H] = ${L * H} values (got ${state.h?.length})`);
    }
    if (cell === 'lstm') {
      if (!(state.c instanceof Float32Array) || state.c.length !== L * H) {
        throw new Error(`OnnxLanguageModel: an LSTM state needs c, a Float32Array of [L, H] = ${L * H} values (got ${state.c?.length})`);
      }
    } else if (state.c !== undefined) {
      throw new Error('OnnxLanguageModel: state.c is for LSTM models only; this is an RNN');
    }
  }
}

/** The input of a graph built with optionalLogProbs that says whether to run the decoder. */
const WANT_LOG_PROBS = 'want_log_probs';
const WANTED = new ort.Tensor('bool', Uint8Array.of(1), []);
const NOT_WANTED = new ort.Tensor('bool', Uint8Array.of(0), []);

function expectLength(a: Float32Array, n: number, name: string): Float32Array {
  if (a.length !== n) throw new Error(`OnnxLanguageModel: "${name}" holds ${a.length} values, expected ${n}; does the model match its configuration?`);
  return a;
}

/** Fails with a hint when the model's inputs, outputs or fixed sizes do not match the configuration. */
function checkSignature(session: ort.InferenceSession, cfg: ModelConfig): void {
  const lstm = cfg.cell === 'lstm';
  const inputs = [...(lstm ? ['tokens', 'h0', 'c0'] : ['tokens', 'h0']), ...(session.inputNames.includes(WANT_LOG_PROBS) ? [WANT_LOG_PROBS] : [])];
  const outputs = lstm ? ['log_probs', 'hT', 'cT'] : ['log_probs', 'hT'];
  const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x));
  if (!same(session.inputNames, inputs) || !same(session.outputNames, outputs)) {
    throw new Error(
      `OnnxLanguageModel: the model does not match the configuration (${cfg.cell}): ` +
        `expected inputs [${inputs}] and outputs [${outputs}], the model has inputs [${session.inputNames}] and outputs [${session.outputNames}]`,
    );
  }
  // Fixed dimensions, where the runtime reports them (symbolic ones such as T and B are strings).
  const expected: Record<string, (number | undefined)[]> = {
    h0: [cfg.layers, undefined, cfg.hidden],
    c0: [cfg.layers, undefined, cfg.hidden],
    log_probs: [undefined, undefined, cfg.vocab],
  };
  const metadata = [...(session.inputMetadata ?? []), ...(session.outputMetadata ?? [])];
  for (const meta of metadata) {
    const want = expected[meta.name];
    if (!want || !meta.isTensor || meta.shape.length === 0) continue;
    const ok = meta.shape.length === want.length && want.every((d, i) => d === undefined || typeof meta.shape[i] !== 'number' || meta.shape[i] === d);
    if (!ok) {
      throw new Error(
        `OnnxLanguageModel: "${meta.name}" has shape [${meta.shape}] in the model, but the configuration ` +
          `(L ${cfg.layers}, H ${cfg.hidden}, V ${cfg.vocab}) needs [${want.map((d) => d ?? '*')}]`,
      );
    }
  }
}
