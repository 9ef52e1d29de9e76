// The host end of the link against an in-process device model (host/link/mock.ts):
// retransmission after corrupted and missing replies, and the counts it reports.
import { describe, expect, it } from 'vitest';
import { Device, Space } from '../../host/device.ts';
import { DeviceError, LinkTimeoutError, ModelTooLargeError } from '../../host/errors.ts';
import { Cmd, DeviceStatusError, encodeFrame } from '../../host/link/frame.ts';
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

  it('sends an input larger than a frame packed, in INFER parts, and returns outputs and cycles', async () => {
    const mock = new MockDevice();
    const dev = await Device.connect(mock, fast);
    const bytes = Uint8Array.from({ length: 700 }, (_, i) => (i * 7 + 1) & 0xff);
    const [r] = await dev.inferStream([{ addr: 100, lanes: 1, bytes }], { addr: 100, lanes: 1, count: 10 });
    expect([...r.output]).toEqual([...bytes.subarray(0, 10)]);
    expect(r.cycles).toBe(1234);
    // 700 bytes in 256-byte frames: parts of 252, 255 and the rest
    expect(mock.executed[Cmd.INFER]).toBe(3);
    // one byte per memory word of 8 lanes (2 host words): lane 0 of words 50, 51, ...
    const amem = new Uint8Array(mock.mem[0].buffer);
    for (let k = 0; k < 700; k++) expect(amem[4 * (100 + 2 * k)]).toBe(bytes[k]);
    await dev.close();
  });

  it('streams many inputs, each in parts, and gets every output in order', async () => {
    const mock = new MockDevice();
    const dev = await Device.connect(mock, fast);
    const inputs = Array.from({ length: 6 }, (_, j) => ({
      addr: 0,
      lanes: 3,
      bytes: Uint8Array.from({ length: 600 }, (_, i) => (i + 13 * j) & 0xff),
    }));
    const rs = await dev.inferStream(inputs, { addr: 0, lanes: 3, count: 12 });
    rs.forEach((r, j) => expect([...r.output]).toEqual([...inputs[j].bytes.subarray(0, 12)]));
    expect(dev.stats.retransmissions).toBe(0);
    await dev.close();
  });

  it('writes a lost part after its retransmission: the part behind it is BUSY and sent again', async () => {
    const mock = new MockDevice();
    const dev = await Device.connect(mock, fast);
    const bytes = Uint8Array.from({ length: 700 }, (_, i) => (i * 3) & 0xff);
    mock.faults.dropRequests = 1; // part 0 is lost on the line
    const [r] = await dev.inferStream([{ addr: 0, lanes: 1, bytes }], { addr: 0, lanes: 1, count: 16 });
    expect([...r.output]).toEqual([...bytes.subarray(0, 16)]);
    expect(dev.stats.busyReplies).toBeGreaterThanOrEqual(1);
    expect(dev.stats.timeouts).toBeGreaterThanOrEqual(1);
    const amem = new Uint8Array(mock.mem[0].buffer);
    for (let k = 0; k < 700; k++) expect(amem[8 * k]).toBe(bytes[k]);
    await dev.close();
  });

  it('answers a last part whose reply was lost from memory, while the next input is being written', async () => {
    const mock = new MockDevice();
    const dev = await Device.connect(mock, fast);
    const inputs = [0, 1].map((j) => ({
      addr: 0,
      lanes: 1,
      bytes: Uint8Array.from({ length: 500 }, (_, i) => (i + 100 * j) & 0xff),
    }));
    // the program copies the first 4 input bytes (lane 0 of words 0..3) to the outputs
    mock.onRun = (amem) => {
      for (let k = 0; k < 4; k++) amem[4 * (1000 + 2 * k)] = amem[8 * k];
    };
    // parts: [0a, 0b, 1a, 1b]; the reply of 0b (the first inference's last part) is lost
    let sent = 0;
    const write = mock.write.bind(mock);
    mock.write = async (d: Uint8Array) => {
      if (d[1] === Cmd.INFER && ++sent === 2) mock.faults.dropReplies = 1;
      return write(d);
    };
    const rs = await dev.inferStream(inputs, { addr: 1000, lanes: 1, count: 4 });
    // the first inference's outputs, although the second input's part 0 was written by then
    expect(rs.map((r) => [...r.output])).toEqual([
      [0, 1, 2, 3],
      [100, 101, 102, 103],
    ]);
    expect(dev.stats.timeouts).toBeGreaterThanOrEqual(1);
    await dev.close();
  });

  it('fails every pending request at once, in one line, when the port goes away', async () => {
    const mock = new MockDevice();
    const dev = await Device.connect(mock, { ...fast, retries: 50 });
    mock.faults.dropReplies = 1000;
    const t0 = Date.now();
    const pending = dev.read(Space.AMEM, 0, 4).catch((e: unknown) => e);
    setTimeout(() => mock.unplug(), 50);
    const err = await pending;
    expect(err).toBeInstanceOf(DeviceError);
    expect((err as Error).message).toMatch(/serial port mock closed: the board was unplugged or reset/);
    expect((err as Error).message).not.toContain('\n');
    expect(Date.now() - t0).toBeLessThan(1000);
    await expect(dev.read(Space.AMEM, 0, 1)).rejects.toThrow(/closed/);
    await dev.close();
  });

  it('gives up soon on a device that stops answering, saying it answered before', async () => {
    const mock = new MockDevice();
    const dev = await Device.connect(mock, { ...fast, retries: 1000, silenceMs: 400 });
    mock.faults.dropReplies = 100000;
    const t0 = Date.now();
    const err = await dev.read(Space.AMEM, 0, 4).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LinkTimeoutError);
    expect((err as Error).message).toMatch(
      /answered before but sent nothing for .* s \(frozen, reset or unplugged\?\)/,
    );
    expect(Date.now() - t0).toBeLessThan(2000);
    await dev.close();
  });

  it('tells a port whose replies belong to another program from one that is silent', async () => {
    // answers every request, but with the seq of someone else's
    const mock = new MockDevice();
    const write = mock.write.bind(mock);
    const t = {
      path: 'shared',
      write: async (d: Uint8Array) => {
        const f = d.slice();
        f[2] = (f[2] + 100) & 0xff;
        f.set(encodeFrame(f[1], f[2], f.subarray(5, f.length - 2)));
        return write(f);
      },
      onData: (l: (c: Uint8Array) => void) => mock.onData(l),
      discardInput: async () => {},
      close: async () => {},
    };
    const err = await Device.connect(t, { ...fast, retries: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LinkTimeoutError);
    expect((err as Error).message).toMatch(
      /did not answer IDENTIFY .*: it answers only requests this host did not send \(another program is using the port\?\)/,
    );
  });
});
