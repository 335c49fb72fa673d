// The texts a command evaluates: files as given, folders read the way training reads a project.

import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { readWorkspaceFiles } from '../io/workspace-files.js';
import { UsageError } from './args.js';
import type { Text } from './evaluate.js';

export async function readTexts(paths: string[]): Promise<Text[]> {
  const texts: Text[] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new UsageError(`${p} does not exist`);
    }
    if (st.isDirectory()) {
      const scan = await readWorkspaceFiles(p);
      for (const f of scan.files) texts.push({ file: path.join(p, f.relPath), text: f.text });
    } else {
      // Without a byte-order mark, as editors (and the folder reader) present the text.
      texts.push({ file: p, text: readFileSync(p, 'utf8').replace(/^\uFEFF/, '') });
    }
  }
  return texts;
}
