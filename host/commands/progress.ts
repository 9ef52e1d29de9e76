// The progress display every command uses: log lines and progress bars on standard
// error, so standard output keeps only the result (the JSON document with --json).
// The library reports progress through callbacks (host/progress.ts); this turns them
// into one bar per task, drawn only when standard error is a terminal.
import cliProgress from 'cli-progress';
import type { ProgressEvent, ProgressListener } from '../progress.ts';

export interface Progress {
  /** A line for the user (a stage, a warning). */
  log(line: string): void;
  /** Progress events of the library: a bar for the task under way. */
  readonly onProgress: ProgressListener;
  /** Removes the bar, if one is drawn. */
  stop(): void;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  const tty = !!stream.isTTY;
  let bar: cliProgress.SingleBar | null = null;
  let task = '';
  const stop = () => {
    bar?.stop();
    bar = null;
    task = '';
  };
  return {
    log(line) {
      stop();
      stream.write(`${line}\n`);
    },
    onProgress(e: ProgressEvent) {
      if (!tty) return;
      if (!bar || task !== e.task) {
        stop();
        task = e.task;
        bar = new cliProgress.SingleBar(
          {
            stream,
            format: `${e.task.padEnd(7)} [{bar}] {value}/{total} ${e.unit} {eta_formatted}`,
            hideCursor: true,
            etaBuffer: 100,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(e.total, 0);
      }
      bar.setTotal(e.total);
      bar.update(e.done);
      if (e.done >= e.total) stop();
    },
    stop,
  };
}
