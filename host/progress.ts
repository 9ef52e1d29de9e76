// How the library reports the progress of long tasks (an upload, a batch of inferences):
// through a callback, never by drawing anything. The command line turns the events into
// a progress bar (host/commands/progress.ts); a library user may ignore them.

export interface ProgressEvent {
  /** What is under way: 'upload', 'infer', ... */
  task: string;
  /** Units done so far, out of `total`. */
  done: number;
  total: number;
  /** What is counted: 'words', 'inputs', ... */
  unit: string;
}

export type ProgressListener = (event: ProgressEvent) => void;
