// Small helpers for the command line: typed option values with clear errors.

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function num(v: string | undefined, name: string, opts: { int?: boolean; min?: number; max?: number } = {}): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x)) throw new UsageError(`--${name} must be a number (got "${v}")`);
  if (opts.int && !Number.isInteger(x)) throw new UsageError(`--${name} must be a whole number (got "${v}")`);
  if (opts.min !== undefined && x < opts.min) throw new UsageError(`--${name} must be at least ${opts.min} (got ${v})`);
  if (opts.max !== undefined && x > opts.max) throw new UsageError(`--${name} must be at most ${opts.max} (got ${v})`);
  return x;
}

export function oneOf<T extends string>(v: string | undefined, name: string, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')} (got "${v}")`);
  return v as T;
}

/** 1234567 → "1,234,567" */
export function thousands(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Seconds → "1:02:03" / "2:03". */
export function duration(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const t = Math.max(0, Math.round(s));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = t % 60;
  const mm = h ? String(m).padStart(2, '0') : String(m);
  return `${h ? `${h}:` : ''}${mm}:${String(sec).padStart(2, '0')}`;
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
