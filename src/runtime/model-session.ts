// A saved model opened for use in a long-running host (the editor): its metadata and vocabulary, the
// inference session that predicts, and, on first use, the scoring session that measures perplexity. One
// release() frees both, after the runs in flight, so a model can be swapped while requests are running.
//
// Both sessions get few threads: the editor shares the machine, and one token step of a small model is
// too little work to spread over many cores.
//

import type { ChunkScorer, SequenceScorer } from '../core/evaluation.js';
import { parametersFromModel } from '../core/graphs/inference-graph.js';
import { parseModelMeta, vocabularyOf, type ModelMeta } from '../core/model-format.js';
import type { TokenizerMode } from '../core/tokenizer.js';
import type { Vocabulary } from '../core/vocabulary.js';
import { loadModelFiles, type ModelFiles } from '../io/model-store.js';
import { OnnxLanguageModel } from './onnx-language-model.js';
import { OnnxScorer } from './onnx-scorer.js';

export interface ModelSessionOptions {
  /** Intra-op threads of each session (default 1). */
  threads?: number;
}

export class ModelSession {
  private scoringSession: Promise<OnnxScorer> | undefined;
  private readonly scoring = new Set<Promise<unknown>>();
  private released = false;

  private constructor(
    /** The absolute model folder. */
    readonly dir: string,
    readonly meta: ModelMeta,
    /** With corpus counts when model.json has them (the unigram baseline needs them). */
    readonly vocab: Vocabulary,
    readonly lm: OnnxLanguageModel,
    private readonly onnx: Uint8Array,
    private readonly threads: number,
  ) {}

  /** Opens the model in `dir`; fails with ModelStoreError (`no-model`, `corrupt`) or a format error that names the folder. */
  static async open(dir: string, opts: ModelSessionOptions = {}): Promise<ModelSession> {
    return ModelSession.fromFiles(await loadModelFiles(dir), opts);
  }

  static async fromFiles(files: ModelFiles, opts: ModelSessionOptions = {}): Promise<ModelSession> {
    const threads = opts.threads ?? 1;
    const meta = parseModelMeta(files.meta, files.dir);
    const vocab = vocabularyOf(meta);
    const lm = await OnnxLanguageModel.create(files.onnx, meta.config, { threads });
    return new ModelSession(files.dir, meta, vocab, lm, files.onnx, threads);
  }

  get mode(): TokenizerMode {
    return this.meta.tokenizer.mode;
  }

  /**
   * Scores with the scoring graph (what `nextword eval` uses), from any state (DocumentPerplexity's
   * checkpoints) or from the start (evaluateText). The session is built on first use; its runs are tracked
   * so that release() waits for them.
   */
  readonly scorer: ChunkScorer & SequenceScorer = {
    initialState: () => this.lm.initialState(),
    scoreChunk: (ids, state) => this.track(this.onnxScorer().then((s) => s.scoreChunk(ids, state))),
    scoreSequence: (ids) => this.track(this.onnxScorer().then((s) => s.scoreSequence(ids))),
  };

  /** Frees both sessions once their runs in flight are done. Later runs fail; calling it twice is harmless. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await Promise.allSettled([...this.scoring]);
    const scoring = this.scoringSession;
    this.scoringSession = undefined;
    await Promise.allSettled([this.lm.release(), scoring?.then((s) => s.release())]);
  }

  private track<T>(run: Promise<T>): Promise<T> {
    this.scoring.add(run);
    const forget = () => this.scoring.delete(run);
    run.then(forget, forget);
    return run;
  }

  private onnxScorer(): Promise<OnnxScorer> {
    if (this.released) return Promise.reject(new Error('ModelSession: scoring after release()'));
    if (!this.scoringSession) {
      const { config } = this.meta;
      const created = Promise.resolve().then(() => OnnxScorer.create(config, parametersFromModel(config, this.onnx), { threads: this.threads }));
      this.scoringSession = created;
      // A failed build is not kept: the next call tries again.
      created.catch(() => {
        if (this.scoringSession === created) this.scoringSession = undefined;
      });
    }
    return this.scoringSession;
  }
}
