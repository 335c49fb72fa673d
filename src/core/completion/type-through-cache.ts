// The last suggestion shown in each document, so that typing what the ghost text shows (or accepting it one
// word at a time) is answered without running the model again (llama.vscode `getCachedCompletion`, Tabby
// `cache.ts`). One entry per document.
//
// Coordinates: an item replaces [startCharacter, endCharacter) of the cursor's line, endCharacter being the
// cursor when the item was made; the text it replaces is a prefix of insertText, so the ghost text is
// insertText after (cursor − startCharacter) characters.

/** A suggestion for the cursor's line: replace [startCharacter, endCharacter) with insertText. */
export interface EngineItem {
  insertText: string;
  startCharacter: number;
  endCharacter: number;
  /** The phrase's length-normalised probability (geometric mean of its tokens'), for logs and ordering. */
  confidence: number;
}

export interface ShownSuggestion {
  /** What made the items (the predictor): an entry made by another model never answers. */
  source: unknown;
  /** The document's text up to the cursor when the items were made. */
  textBefore: string;
  /** The rest of the cursor's line then. */
  lineSuffix: string;
  /** The cursor's column then; every item's endCharacter. */
  character: number;
  /** Made on an explicit trigger (alternatives), so it may answer explicit requests too. */
  explicit: boolean;
  items: EngineItem[];
}

export interface TypedRequest {
  textBefore: string;
  lineSuffix: string;
  character: number;
  explicit: boolean;
}

export class TypeThroughCache {
  private readonly entries = new Map<string, ShownSuggestion>();

  set(docKey: string, shown: ShownSuggestion): void {
    this.entries.set(docKey, shown);
  }

  delete(docKey: string): void {
    this.entries.delete(docKey);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * The items still valid after the user typed on from the shown suggestion: the new text is the old one
   * plus characters that begin an item's ghost text (and leave some of it), on the same line with the same
   * suffix. Each is returned over the same start, up to the new cursor. Undefined on a miss.
   */
  lookup(docKey: string, req: TypedRequest, source: unknown): EngineItem[] | undefined {
    const shown = this.entries.get(docKey);
    if (!shown || shown.source !== source) return undefined;
    if (req.explicit && !shown.explicit) return undefined; // an explicit request wants alternatives
    const typedLength = req.textBefore.length - shown.textBefore.length;
    if (typedLength <= 0 || req.character !== shown.character + typedLength || req.lineSuffix !== shown.lineSuffix) return undefined;
    if (!req.textBefore.startsWith(shown.textBefore)) return undefined;
    const typed = req.textBefore.slice(shown.textBefore.length);
    const items: EngineItem[] = [];
    for (const item of shown.items) {
      const ghost = item.insertText.slice(shown.character - item.startCharacter);
      // Typing all of it finishes the suggestion: what comes next needs the model.
      if (ghost.length > typed.length && ghost.startsWith(typed)) items.push({ ...item, endCharacter: req.character });
    }
    return items.length > 0 ? items : undefined;
  }
}
