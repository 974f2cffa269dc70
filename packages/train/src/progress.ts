import cliProgress from 'cli-progress';
import { fmt, formatEvalTable } from './format-eval';
import type { EvalResult, StepMetrics, Trainer, TrainReporter } from './trainer';

export { formatEvalTable };

/**
 * A progress bar with throughput, loss and ETA on a terminal; plain log lines every
 * `logEvery` steps otherwise (CI logs, pipes).
 */
export class ProgressReporter implements TrainReporter {
  private bar?: cliProgress.SingleBar;
  private readonly tty: boolean;

  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly logEvery = 25,
    /** Print the evaluation at the last step too (off when the caller prints its own report). */
    private readonly printFinalEval = true,
  ) {
    this.tty = Boolean(out.isTTY);
  }

  onStart(t: Trainer): void {
    if (!this.tty) return;
    this.bar = new cliProgress.SingleBar(
      {
        stream: this.out,
        format:
          'train |{bar}| {value}/{total} steps | {throughput} {unit}/s | loss {loss} | ETA {eta_formatted}',
        hideCursor: true,
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(t.options.steps, t.step, { throughput: '-', unit: t.task.unit, loss: '-' });
  }

  onStep(m: StepMetrics, t: Trainer): void {
    const per = Object.entries(m.losses)
      .map(([w, l]) => `${w}:${fmt(l)}`)
      .join(' ');
    if (this.bar) this.bar.update(m.step, { throughput: m.throughput.toFixed(0), loss: per });
    else if (m.step % this.logEvery === 0 || m.step === t.options.steps) {
      this.out.write(
        `step ${m.step}/${t.options.steps}  lr ${m.lr.toExponential(2)}  ${m.throughput.toFixed(0)} ${t.task.unit}/s  loss ${per}  |g| ${fmt(m.gradNorm, 2)}\n`,
      );
    }
  }

  onEval(e: EvalResult, t: Trainer): void {
    if (!this.printFinalEval && e.step === t.options.steps) return;
    this.bar?.stop();
    this.out.write(`\nheld-out evaluation at step ${e.step}:\n${formatEvalTable(e)}\n\n`);
    if (this.bar) this.bar.start(this.bar.getTotal(), e.step);
  }

  onEnd(): void {
    this.bar?.stop();
  }
}
