// Progress: the device reports an upload through its callback (no drawing in the
// library), and the command line's one progress helper draws a bar for it on a
// terminal only, while its log lines always reach standard error.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress } from '../../../host/commands/progress.ts';
import type { DeviceImage } from '../../../host/compiler/types.ts';
import { Device } from '../../../host/device.ts';
import { MockDevice } from '../../../host/link/mock.ts';
import type { ProgressEvent } from '../../../host/progress.ts';

const fast = { baseTimeoutMs: 50, msPerByte: 0.01, retries: 3, firstRunMs: 100 };

function fakeStderr(tty: boolean) {
  const s = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number };
  s.isTTY = tty;
  s.columns = 100;
  let text = '';
  s.on('data', (d: Buffer) => (text += d.toString()));
  return { stream: s as unknown as NodeJS.WriteStream, text: () => text };
}

describe('progress', () => {
  it('Device.upload reports the words written as task upload, rising to the total', async () => {
    const dev = await Device.connect(new MockDevice(), fast);
    const { dim, amemWords, wmemWords, dmemWords, accDepth, maxLayers } = dev.info;
    const image: DeviceImage = {
      config: { dim, amemWords, wmemWords, dmemWords, accDepth, maxLayers },
      dmem: new Uint32Array(32),
      segments: [new Uint32Array(32)],
      wmem: new Uint32Array(1000),
      amemWordsUsed: 10,
      input: { addr: 0, words: 2, shape: [8] },
      output: { addr: 2, words: 2, shape: [8] },
      layers: [],
      descriptors: new Uint32Array(32),
      stepLayers: [0, 0],
      needs: { layers: [], peak: { amem: 40, wmem: 4000, dmem: 128 } },
    };
    const events: ProgressEvent[] = [];
    await dev.upload(image, { onProgress: (e) => events.push({ ...e }) });
    await dev.close();
    expect(events.every((e) => e.task === 'upload' && e.unit === 'words' && e.total === 1032)).toBe(true);
    const done = events.map((e) => e.done);
    expect(done).toEqual([...done].sort((a, b) => a - b));
    expect(done.at(-1)).toBe(1032);
  });

  it('draws a bar per task on a terminal, and nothing but log lines elsewhere', () => {
    for (const tty of [true, false]) {
      const err = fakeStderr(tty);
      const p = createProgress(err.stream);
      p.log('building the simulated board');
      for (let d = 0; d <= 50; d += 10) p.onProgress({ task: 'upload', done: d, total: 50, unit: 'words' });
      p.onProgress({ task: 'infer', done: 3, total: 200, unit: 'inputs' });
      p.stop();
      expect(err.text()).toContain('building the simulated board\n');
      if (tty) {
        expect(err.text()).toMatch(/upload +\[.*\] 50\/50 words/);
        expect(err.text()).toMatch(/infer +\[.*\] 3\/200 inputs/);
      } else {
        expect(err.text()).toBe('building the simulated board\n');
      }
    }
  });
});
