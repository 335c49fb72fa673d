// One suggestion to train, the first time Nextword runs in a trusted workspace with enough text and no
// model of its own: asked once per workspace and never again once answered or dismissed ("Don't Ask
// Again" stops it in every workspace; so does `nextword.training.suggest: false`).

import * as vscode from 'vscode';

/** Where the suggestion stands, for the log and the tests. */
export type SuggestionState =
  | { kind: 'waiting' }
  | { kind: 'not-needed'; why: string }
  | { kind: 'shown' }
  | { kind: 'answered'; answer: 'train' | 'words' | 'later' | 'never' | 'dismissed' };

export interface FirstRunDeps {
  workspaceState: vscode.Memento;
  globalState: vscode.Memento;
  log: vscode.LogOutputChannel;
  /** `nextword.training.suggest`. */
  enabled: () => boolean;
  /** Whether this workspace has a model trained on it (or one is training). */
  hasWorkspaceModel: () => Promise<boolean>;
  train: () => void;
  /** Count the workspace's words now and use them until a model is trained (workspace-words.ts). */
  useWords: () => void;
}

/** Text files a workspace needs before training is worth suggesting. */
export const MIN_FILES = 10;
const ASKED_KEY = 'nextword.trainingSuggested';
const NEVER_KEY = 'nextword.neverSuggestTraining';
/** Files that count as text worth learning from (a cheap look, not what training reads; stale-model.ts looks at them too). */
export const TEXT_FILES = '**/*.{md,markdown,txt,rst,tex,adoc,org,ts,tsx,js,jsx,mjs,cjs,py,java,go,rs,c,h,cc,cpp,hpp,cs,rb,php,swift,kt,scala,sh,lua,sql,yaml,yml,html,css}';

export class FirstRunSuggestion implements vscode.Disposable {
  private current: SuggestionState = { kind: 'waiting' };
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly deps: FirstRunDeps) {}

  get state(): SuggestionState {
    return this.current;
  }

  /** Looks once, `delayMs` from now (off the startup path). */
  schedule(delayMs: number): void {
    this.timer = setTimeout(() => void this.check().catch((e: unknown) => this.deps.log.warn(`the training suggestion failed: ${(e as Error).message}`)), delayMs);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  /** Decides, and asks when it should; resolves once the question is shown (not answered). */
  async check(token?: vscode.CancellationToken): Promise<SuggestionState> {
    const why = await this.reasonNotToAsk(token);
    if (why) {
      this.current = { kind: 'not-needed', why };
      this.deps.log.debug(`training not suggested: ${why}`);
      return this.current;
    }
    // Asked now: whatever the answer (or none), never again in this workspace.
    await this.deps.workspaceState.update(ASKED_KEY, true);
    this.current = { kind: 'shown' };
    this.deps.log.info('suggesting Train on Workspace (once for this workspace)');
    void vscode.window
      .showInformationMessage(
        'Nextword can learn from this workspace to suggest its own words and phrases: train a model now (a few minutes, in the background), or use its words at once from a quick count of its files.',
        'Train Now',
        'Use Its Words Now',
        'Not Now',
        "Don't Ask Again",
      )
      .then(async (choice) => {
        const answer = choice === 'Train Now' ? 'train' : choice === 'Use Its Words Now' ? 'words' : choice === 'Not Now' ? 'later' : choice ? 'never' : 'dismissed';
        this.current = { kind: 'answered', answer };
        if (answer === 'never') await this.deps.globalState.update(NEVER_KEY, true);
        if (answer === 'train') this.deps.train();
        if (answer === 'words') this.deps.useWords();
      });
    return this.current;
  }

  private async reasonNotToAsk(token?: vscode.CancellationToken): Promise<string | undefined> {
    if (!this.deps.enabled()) return 'nextword.training.suggest is off';
    if (this.deps.globalState.get(NEVER_KEY)) return "the user asked not to be asked again";
    if (this.deps.workspaceState.get(ASKED_KEY)) return 'already suggested in this workspace';
    if (!vscode.workspace.isTrusted) return 'the workspace is not trusted';
    if (!vscode.workspace.workspaceFolders?.length) return 'no folder is open';
    if (await this.deps.hasWorkspaceModel()) return 'the workspace has a model';
    const found = await vscode.workspace.findFiles(TEXT_FILES, undefined, MIN_FILES, token);
    if (found.length < MIN_FILES) return `only ${found.length} text files (at least ${MIN_FILES})`;
    return undefined;
  }
}
