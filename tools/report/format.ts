// Number formatting shared by the report's tables and its findings text.

export const pct = (v: number, d = 1) => `${(100 * v).toFixed(d)}%`;
// No "-0.000": a tiny negative rounds to plain zero.
export const f3 = (v: number) => (Math.abs(v) < 5e-4 ? 0 : v).toFixed(3);
export const signed = (v: number, d = 3) => {
  const r = Math.abs(v) < 0.5 * 10 ** -d ? 0 : v; // no "-0.000"
  return `${r >= 0 ? '+' : ''}${r.toFixed(d)}`;
};
export const count = (n: number) =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(n);
export const secs = (s: number) => (s >= 120 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(0)} s`);
