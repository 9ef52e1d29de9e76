// A progress bar on standard error for commands whose total is known only once they run
// (the model is loaded first). Started on the first update; nothing when not a terminal.
import cliProgress from 'cli-progress';

export function progressBar(
  label: string,
  total: number,
  unit: string,
): { update(done: number, total?: number): void; stop(): void } {
  let bar: cliProgress.SingleBar | null = null;
  return {
    update(done: number, newTotal?: number) {
      if (!bar) {
        bar = new cliProgress.SingleBar(
          { stream: process.stderr, format: `${label} [{bar}] {value}/{total} ${unit} {eta_formatted}` },
          cliProgress.Presets.shades_classic,
        );
        bar.start(newTotal ?? total, 0);
      } else if (newTotal !== undefined) bar.setTotal(newTotal);
      bar.update(done);
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}
