/** Learning rate as a function of the step (0-based). */
export type Schedule = (step: number) => number;

export interface WarmupCosineOptions {
  peakLr: number;
  /** Linear warmup from 0 over this many steps. */
  warmupSteps: number;
  /** Step at which the cosine reaches `minLr`. */
  totalSteps: number;
  /** Floor of the decay; default peakLr / 10 (as in GPT-style recipes). */
  minLr?: number;
}

/** Linear warmup, then cosine decay to minLr at totalSteps, flat after. */
export function warmupCosine({
  peakLr,
  warmupSteps,
  totalSteps,
  minLr = peakLr / 10,
}: WarmupCosineOptions): Schedule {
  return (step) => {
    if (step < warmupSteps) return (peakLr * (step + 1)) / warmupSteps;
    const progress = Math.min(1, (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
    return minLr + 0.5 * (peakLr - minLr) * (1 + Math.cos(Math.PI * progress));
  };
}
