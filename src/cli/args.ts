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

export { duration, thousands } from '../core/support/figures.js';

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
