// The length of the longest common prefix of two strings, with the engine's own comparison doing the work:
// one `startsWith` over the whole shorter length answers the common cases (equal texts, one extending the
// other), and otherwise a bisection compares halves of what is left natively, ~2× the text's length in all:
// several times faster than a loop over every character (docs/design-figures.md).

/** Left to a loop over characters: the native comparisons no longer pay below this. */
const WALK = 64;

/** The number of leading UTF-16 code units `a` and `b` share (it may end between a surrogate pair's halves). */
export function commonPrefixLength(a: string, b: string): number {
  let hi = Math.min(a.length, b.length);
  if (a.startsWith(hi === b.length ? b : b.slice(0, hi))) return hi;
  // The first `lo` code units are shared; the first `hi` are not.
  let lo = 0;
  while (hi - lo > WALK) {
    const mid = (lo + hi) >>> 1;
    if (a.startsWith(b.slice(lo, mid), lo)) lo = mid;
    else hi = mid;
  }
  while (lo < hi && a.charCodeAt(lo) === b.charCodeAt(lo)) lo++;
  return lo;
}
