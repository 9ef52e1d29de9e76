// The host end of the link against an in-process device model (host/link/mock.ts):
// retransmission after corrupted and missing replies, and the counts it reports.
import { describe, expect, it } from 'vitest';
import { Device, Space } from '../../host/device.ts';
import { LinkTimeoutError, ModelTooLargeError } from '../../host/errors.ts';
import { Cmd, DeviceStatusError } from '../../host/link/frame.ts';
import { MockDevice } from '../../host/link/mock.ts';
import type { DeviceImage } from '../../host/compiler/types.ts';

const fast = { baseTimeoutMs: 50, msPerByte: 0.01, retries: 3, firstRunMs: 100 };

describe('link over a mock device', () => {
  it('identifies and round-trips a multi-frame write and read', async () => {
    const mock = new MockDevice();
    const dev = await Device.connect(mock, fast);
    expect(dev.info.maxPayload).toBe(256);
    const words = Uint32Array.from({ length: 1000 }, (_, i) => (i * 2654435761) >>> 0);
    await dev.write(Space.WMEM, 17, words);
    expect(await dev.read(Space.WMEM, 17, 1000)).toEqual(words);
    // 1000 words at 62 per WRITE frame: 17 frames
    expect(mock.executed[Cmd.WRITE]).toBe(17);
    expect(dev.stats.retransmissions).toBe(0);
    await dev.close();
  });

  it('retransmits at once after a corrupted reply and counts it', async () => {
    const mock = new MockDevice();
    const dev = await Device.connect(mock, fast);
    mock.faults.corruptReplies = 2;
    const words = Uint32Array.of(1, 2, 3);
    await dev.write(Space.AMEM, 0, words);
    expect(await dev.read(Space.AMEM, 0, 3)).toEqual(words);
    expect(dev.stats.corruptReplies).toBe(2);
    expect(dev.stats.retransmissions).toBe(2);
    expect(dev.stats.timeouts).toBe(0);
    // the repeated WRITE was answered from the stored reply, not executed again
    expect(mock.executed[Cmd.WRITE]).toBe(1);
    await dev.close();
  });

  it('times out on a missing reply, retransmits, and reports the count', async () => {
    const mock = new MockDevice();
    const dev = await Device.connect(mock, fast);
    mock.faults.dropReplies = 1;
    mock.faults.dropRequests = 1;
    expect(await dev.run()).toBe(1234);
    expect(dev.stats.timeouts).toBe(2);
    expect(dev.stats.retransmissions).toBe(2);
    // the lost request was executed once, the lost reply's request not again
    expect(mock.executed[Cmd.RUN]).toBe(1);
    await dev.close();
  }, 30_000);

  it('gives up with a LinkTimeoutError naming the port and the command', async () => {
    const mock = new MockDevice();
    const dev = await Device.connect(mock, fast);
    mock.faults.dropReplies = 100;
    const err = await dev.identify().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LinkTimeoutError);
    expect((err as Error).message).toMatch(/device on mock did not answer IDENTIFY within .* \(4 attempts\)/);
    expect((err as LinkTimeoutError).exitCode).toBe(2);
    await dev.close();
  }, 30_000);

  it('turns a refused request into a DeviceStatusError with the status name', async () => {
    const dev = await Device.connect(new MockDevice(), fast);
    await expect(dev.read(Space.DMEM, 250, 10)).rejects.toThrow(DeviceStatusError);
    await expect(dev.read(Space.DMEM, 250, 10)).rejects.toThrow(/BAD_ADDR/);
    await dev.close();
  });

  it('refuses an image larger than the device, naming both sizes', async () => {
    const dev = await Device.connect(new MockDevice(), fast);
    const image: DeviceImage = {
      config: { dim: 8, amemWords: 4096, wmemWords: 9000, dmemWords: 256, accDepth: 1024, maxLayers: 16 },
      dmem: new Uint32Array(16),
      segments: [new Uint32Array(16)],
      wmem: new Uint32Array(9000),
      amemWordsUsed: 100,
      input: { addr: 0, words: 10, shape: [1, 2, 2] },
      output: { addr: 10, words: 10, shape: [10] },
      layers: [],
      descriptors: new Uint32Array(0),
      stepLayers: [],
      needs: { layers: [], peak: { amem: 400, wmem: 36000, dmem: 64 } },
    };
    await expect(dev.upload(image)).rejects.toThrow(ModelTooLargeError);
    await expect(dev.upload(image)).rejects.toThrow(/WMEM .* needs 9000 words .* device has 8192 words/);
    await dev.close();
  });

  it('sends an input larger than a frame as WRITEs then INFER, and returns outputs and cycles', async () => {
    const mock = new MockDevice();
    const dev = await Device.connect(mock, fast);
    const input = Uint32Array.from({ length: 300 }, (_, i) => i + 1);
    const { output, cycles } = await dev.infer(100, input, 100, 10);
    expect([...output]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(cycles).toBe(1234);
    expect(mock.executed[Cmd.INFER]).toBe(1);
    expect(mock.mem[0].subarray(100, 400)).toEqual(input);
    await dev.close();
  });
  it('sends the INFER only after every WRITE of its input was acknowledged, so a lost WRITE cannot leave an old input', async () => {
    const mock = new MockDevice();
    const dev = await Device.connect(mock, fast);
    const input = Uint32Array.from({ length: 300 }, (_, i) => i + 1);
    mock.faults.dropRequests = 1; // the first WRITE of the input's head is lost on the line
    const { output } = await dev.infer(100, input, 100, 10);
    expect([...output]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(dev.stats.retransmissions).toBeGreaterThanOrEqual(1);
    expect(mock.executed[Cmd.INFER]).toBe(1);
    await dev.close();
  });
});
