// How figures read in the status bar, tooltips, notifications and the log. Pure.

import { thousands } from '../core/support/figures.js';
export { duration, thousands } from '../core/support/figures.js';

/** Time left in words: "less than a minute", "about 1 minute", "about 6 minutes", "about 1 hour 20 minutes". */
export function aboutLeft(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'a while';
  if (seconds < 60) return 'less than a minute';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `about ${minutes} minute${minutes === 1 ? '' : 's'}`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `about ${h} hour${h === 1 ? '' : 's'}${m ? ` ${m} minute${m === 1 ? '' : 's'}` : ''}`;
}

/** How long something took, in words: "3 minutes", "less than a minute" (aboutLeft without its "about"). */
export function tookWords(seconds: number): string {
  return aboutLeft(seconds).replace(/^about /, '');
}

/** A count and its noun: "1 file", "1,234 files". */
export function countOf(n: number, noun: string): string {
  return `${thousands(n)} ${noun}${n === 1 ? '' : 's'}`;
}

/** 0.337 → "34 %". */
export function wholePercent(share: number): string {
  return `${Math.round(share * 100)} %`;
}

/** A perplexity short enough for the status bar: "8.4", "87", "1234", "56k". */
export function shortPerplexity(ppl: number): string {
  if (!Number.isFinite(ppl)) return '—';
  if (ppl < 10) return ppl.toFixed(1);
  if (ppl < 10_000) return String(Math.round(ppl));
  return `${Math.round(ppl / 1000)}k`;
}

/** A perplexity as `nextword eval` prints it: two decimals. */
export function exactPerplexity(ppl: number): string {
  return Number.isFinite(ppl) ? ppl.toFixed(2) : '—';
}

/** 0.0321 → "3.2 %". */
export function percent(share: number): string {
  return Number.isFinite(share) ? `${(share * 100).toFixed(1)} %` : '—';
}

/** Bytes → "812 KB", "3.4 MB". */
export function megabytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '—';
  if (bytes < 1024 * 1024) return `${Math.max(1, Math.round(bytes / 1024))} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** Parameter counts: 2_710_000 → "2.7 M", 950_000 → "950 k". */
export function compactCount(n: number): string {
  if (!Number.isFinite(n)) return '—';
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} M`;
  if (n >= 1e3) return `${Math.round(n / 1e3)} k`;
  return String(Math.round(n));
}

/** Milliseconds with a precision that suits their size: "0.42 ms", "7.3 ms", "120 ms". */
export function millis(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  return `${Math.round(ms)} ms`;
}

/** Escapes text for a MarkdownString (file names with `*`, `_`, `|`…). */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (c) => `\\${c}`);
}
