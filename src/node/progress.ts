/**
 * A progress bar on stderr (cli-progress) with the running loss and throughput. Off when stderr is
 * not a terminal, so logs and CI output stay clean.
 */
import cliProgress from 'cli-progress';

export class Progress {
  private readonly bar?: cliProgress.SingleBar;
  private readonly started = performance.now();

  constructor(label: string, total: number, enabled: boolean) {
    if (!enabled || !process.stderr.isTTY) return;
    this.bar = new cliProgress.SingleBar({
      format: `${label} [{bar}] {value}/{total}  loss {loss}  {rate} ex/s  eta {eta_formatted}`,
      stream: process.stderr, hideCursor: true, clearOnComplete: true, barsize: 30,
    }, cliProgress.Presets.shades_classic);
    this.bar.start(total, 0, { loss: '-', rate: '-' });
  }

  update(value: number, p: { loss: number; examplesPerSecond: number }): void {
    this.bar?.update(value, { loss: p.loss.toFixed(2), rate: Math.round(p.examplesPerSecond) });
  }

  elapsedSeconds(): number {
    return (performance.now() - this.started) / 1000;
  }

  stop(): void {
    this.bar?.stop();
  }
}
