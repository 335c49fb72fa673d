// A read-only virtual document (`nextword:/Nextword Model.md`) holding the model info page, so the
// Markdown preview can show it without an unsaved "Untitled" editor asking to be saved.

import * as vscode from 'vscode';

export const INFO_SCHEME = 'nextword';

export class ModelInfoDocument implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private content = '';
  private readonly uri = vscode.Uri.from({ scheme: INFO_SCHEME, path: '/Nextword Model.md' });
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly registration: vscode.Disposable;

  constructor() {
    this.registration = vscode.workspace.registerTextDocumentContentProvider(INFO_SCHEME, this);
  }

  /** Sets the page's Markdown and returns its URI; an open preview updates. */
  publish(markdown: string): vscode.Uri {
    this.content = markdown;
    this.changed.fire(this.uri);
    return this.uri;
  }

  provideTextDocumentContent(): string {
    return this.content;
  }

  dispose(): void {
    this.registration.dispose();
    this.changed.dispose();
  }
}
