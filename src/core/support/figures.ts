// How counts and durations read wherever Nextword writes them: the CLI's output, the status bar, tooltips,
// notifications and the log. Pure.

/**
 * 1234567 → "1,234,567"; "—" for no figure. Grouped by hand: the first toLocaleString of the extension host
 * loads ICU's number formats on its thread, as the status bar first draws.
 */
export function thousands(n: number): string {
  return Number.isFinite(n) ? String(Math.round(n)).replace(/\B(?=(\d{3})+$)/g, ',') : '—';
}

/** Seconds → "2:03" or "1:02:03"; "--:--" when unknown. */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const t = Math.max(0, Math.round(seconds));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const s = t % 60;
  return `${h ? `${h}:${String(m).padStart(2, '0')}` : m}:${String(s).padStart(2, '0')}`;
}
