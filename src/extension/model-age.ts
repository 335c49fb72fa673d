// When a workspace's model is stale (stale-model.ts asks): trained long ago, or many files changed since. Pure.

/** Days after which a model is stale whatever changed. */
export const STALE_DAYS = 30;
/** A model is stale once this share of the files looked at (and at least MIN_CHANGED of them) changed since it was trained. */
export const STALE_SHARE = 0.25;
export const MIN_CHANGED = 20;

/** Why a model trained `ageDays` ago, with `changed` of `sampled` files changed since, is stale; undefined when it is not. */
export function staleness(f: { ageDays: number; changed: number; sampled: number }): string | undefined {
  const days = Math.floor(f.ageDays);
  if (f.ageDays >= STALE_DAYS) return `it was trained ${days} days ago`;
  if (f.changed >= MIN_CHANGED && f.sampled > 0 && f.changed / f.sampled >= STALE_SHARE) {
    return `${f.changed} of the ${f.sampled} files looked at changed since it was trained${days > 0 ? ` ${days} day${days === 1 ? '' : 's'} ago` : ''}`;
  }
  return undefined;
}
