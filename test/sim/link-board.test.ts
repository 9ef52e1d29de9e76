// The link through the real simulated board: npu_top (RTL link + npu_core) in Verilator
// behind a real pseudo-terminal, opened with node-serialport like a board's USB UART.
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DESC_WORDS, encodeDescriptor, OP_CONV, plainSteps } from '../../host/compiler/program.ts';
import { Device, Space } from '../../host/device.ts';
import { DeviceError, LinkTimeoutError } from '../../host/errors.ts';
import { Cmd, encodeFrame, FrameDecoder, Status, u16, u32, type Frame } from '../../host/link/frame.ts';
import { SerialTransport } from '../../host/link/transport.ts';
import {
  buildBoardSim,
  buildLinkSelftest,
  SIM_BOARD_PARAMS,
  startBoardSim,
  type SimBoard,
} from '../../host/sim/board.ts';
import { REPO_ROOT } from '../../host/sim/verilator.ts';
import { openDevice } from '../../host/target.ts';

const run = promisify(execFile);
const linkOpts = { baseTimeoutMs: 500, msPerByte: 0.05, firstRunMs: 5000 };

/**
 * A one-layer CONV program that runs for millions of cycles on the 8x8 simulated board: a
 * 63x63 kernel (padding 31) over a 1x1 input, K = 3,969 weight tiles of 8 beats for its
 * one output pixel, 80 output groups (about 32 k cycles each). Its weights reach past
 * WMEM, which the core does not check (the host's checkProgram would refuse it).
 */
function longProgram(og = 80): Uint32Array {
  const d = new Uint32Array(2 * DESC_WORDS); // the descriptor, then END
  d.set(
    encodeDescriptor(
      {
        op: OP_CONV,
        grouped: false,
        inBase: 0,
        outBase: 8,
        cg: 1,
        h: 1,
        w: 1,
        og,
        oh: 1,
        ow: 1,
        kh: 63,
        kw: 63,
        sh: 1,
        sw: 1,
        pt: 31,
        pl: 31,
        ...plainSteps(1, 1, 1, 1),
        wBase: 0,
        steps: 16,
        padValue: 0,
        yZp: 0,
        lo: -128,
        hi: 127,
      },
      8,
    ),
  );
  return d;
}

/** A CONV descriptor of nonsense: every field past the opcode all ones. */
function garbageProgram(): Uint32Array {
  const d = new Uint32Array(2 * DESC_WORDS).fill(0xffffffff, 1, DESC_WORDS);
  d[0] = OP_CONV;
  return d;
}

/** Sends hand-made frames on a transport and collects the replies (bypassing Link). */
class Raw {
  private frames: Frame[] = [];
  private decoder = new FrameDecoder((cmd) => (cmd & 0x80) !== 0);
  constructor(readonly t: SerialTransport) {
    t.onData((c) => {
      for (const ev of this.decoder.push(c)) if (ev.kind === 'frame') this.frames.push(ev.frame);
    });
  }
  send(bytes: Uint8Array | number[]): Promise<void> {
    return this.t.write(Uint8Array.from(bytes));
  }
  async reply(seq: number, timeoutMs = 5000): Promise<Frame> {
    const t0 = Date.now();
    for (;;) {
      const i = this.frames.findIndex((f) => f.seq === seq);
      if (i >= 0) return this.frames.splice(i, 1)[0];
      if (Date.now() - t0 > timeoutMs) throw new Error(`no reply to seq ${seq}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

let exe: string;
let board: SimBoard;
let dev: Device;

const connect = async (p: string) =>
  Device.connect(await SerialTransport.open(p, { baudRate: 115200 }), linkOpts);

beforeAll(async () => {
  exe = await buildBoardSim();
  board = await startBoardSim({ stderr: 'pipe', maxIdle: 120 }, exe);
  dev = await connect(board.path);
});

afterAll(async () => {
  await dev?.close();
  await board?.stop();
});

describe('simulated board over a pty', () => {
  it('answers IDENTIFY with its configuration, clock and clocks per bit', () => {
    const i = dev.info;
    expect(i).toMatchObject({
      version: 2,
      dim: 8,
      accDepth: 1024,
      dmemWords: 256,
      maxLayers: 16,
      clocksPerBit: SIM_BOARD_PARAMS.ClksPerBit,
      maxPayload: SIM_BOARD_PARAMS.MaxPayload - 4,
    });
    expect(i.amemWords).toBe(32768);
    expect(i.wmemWords).toBe(131072);
    expect(i.cntWords).toBe(32);
    expect(i.clockHz).toBe(12_000_000);
  });

  it.each([
    ['AMEM', Space.AMEM, 32768],
    ['WMEM', Space.WMEM, 131072],
    ['DMEM', Space.DMEM, 256],
  ] as const)('round-trips writes and reads of %s at both ends of the space', async (_name, space, size) => {
    const n = Math.min(size / 2, 5000); // WMEM/AMEM: several frames each way
    const lo = Uint32Array.from({ length: n }, (_, k) => (k * 2654435761 + space) >>> 0);
    const hi = Uint32Array.from({ length: n }, (_, k) => ~(k * 40503 + space) >>> 0);
    await dev.write(space, 0, lo);
    await dev.write(space, size - n, hi);
    expect(await dev.read(space, 0, n)).toEqual(lo);
    expect(await dev.read(space, size - n, n)).toEqual(hi);
  });

  it('reads the counters (CNT) and refuses writes to them with BAD_SPACE', async () => {
    expect((await dev.read(Space.CNT, 0, 32)).length).toBe(32);
    await expect(dev.write(Space.CNT, 0, Uint32Array.of(1))).rejects.toThrow(/BAD_SPACE/);
  });

  it('refuses an out-of-range address and a too-long length, leaving memory around untouched', async () => {
    const fence = Uint32Array.from({ length: 16 }, (_, k) => 0xc0de0000 + k);
    await dev.write(Space.DMEM, 240, fence);
    // 10 words at 250 would run past word 255: refused, not truncated, not wrapped
    await expect(dev.write(Space.DMEM, 250, new Uint32Array(10).fill(0xdead))).rejects.toThrow(/BAD_ADDR/);
    const l = dev.link;
    const wrap = await l.request(
      Cmd.WRITE,
      Uint8Array.from([Space.DMEM, ...u32(0xffffffff), ...u32(7), ...u32(7)]),
    );
    expect(wrap.status).toBe(Status.BAD_ADDR);
    const long = await l.request(Cmd.READ, Uint8Array.from([Space.AMEM, ...u32(0), ...u16(4000)]));
    expect(long.status).toBe(Status.BAD_LEN);
    const partial = await l.request(Cmd.WRITE, Uint8Array.from([Space.DMEM, ...u32(0), 1, 2, 3]));
    expect(partial.status).toBe(Status.BAD_LEN);
    expect((await l.request(0x33)).status).toBe(Status.BAD_CMD);
    expect(await dev.read(Space.DMEM, 240, 16)).toEqual(fence);
    expect((await dev.read(Space.DMEM, 0, 1))[0]).not.toBe(7);
  });

  it('survives garbage, truncated frames and bad CRCs, and answers the next good frame', async () => {
    const before = await dev.identify();
    const t = dev.link.transport;
    const settle = () => new Promise((r) => setTimeout(r, 200)); // past the device's watchdog
    // garbage, with a sync byte whose "header" claims a 43605-byte payload
    await t.write(Uint8Array.from([0x00, 0xff, 0xa5, 0x13, 0x37, 0x55, 0xaa, 0x42]));
    await settle();
    const bad = encodeFrame(Cmd.WRITE, 1, Uint8Array.from([Space.AMEM, ...u32(0), 9, 9, 9, 9]));
    bad[bad.length - 1] ^= 0x01;
    await t.write(bad);
    await t.write(
      encodeFrame(Cmd.WRITE, 2, Uint8Array.from([Space.AMEM, ...u32(0), ...new Array(400).fill(9)])).subarray(
        0,
        100,
      ),
    );
    await settle();
    const after = await dev.identify();
    expect(after.rxCrcErrors).toBeGreaterThan(before.rxCrcErrors);
    expect(after.rxTimeouts).toBeGreaterThan(before.rxTimeouts);
    const w = Uint32Array.of(1, 2, 3);
    await dev.write(Space.AMEM, 0, w);
    expect(await dev.read(Space.AMEM, 0, 3)).toEqual(w);
  });

  it('answers a repeated seq from the stored reply without executing it again', async () => {
    await dev.close(); // the port is locked by its user
    const t = await SerialTransport.open(board.path, { baudRate: 115200 });
    const raw = new Raw(t);
    try {
      const seq = 0x5a;
      const write = (v: number) =>
        encodeFrame(Cmd.WRITE, seq, Uint8Array.from([Space.AMEM, ...u32(77), ...u32(v)]));
      await raw.send(write(0x11111111));
      expect((await raw.reply(seq)).payload[0]).toBe(Status.OK);
      await raw.send(write(0x22222222)); // same seq and cmd: a retransmission
      const again = await raw.reply(seq);
      expect([again.cmd, again.payload[0]]).toEqual([Cmd.WRITE | 0x80, Status.OK]);
      await raw.send(encodeFrame(Cmd.READ, seq + 1, Uint8Array.from([Space.AMEM, ...u32(77), ...u16(1)])));
      const rd = await raw.reply(seq + 1);
      expect(Buffer.from(rd.payload.subarray(1)).readUInt32LE(0)).toBe(0x11111111);
    } finally {
      await t.close();
      dev = await connect(board.path);
    }
  });

  it('runs the (empty) program with RUN, and streams packed INFERs in parts, three in flight', async () => {
    await dev.write(Space.DMEM, 0, new Uint32Array(16)); // descriptor 0: END
    expect(await dev.run()).toBeGreaterThan(0);
    // the empty program leaves AMEM alone: outputs read where the input was written
    const inputs = [0, 1, 2, 3].map((j) => ({
      addr: 1000,
      lanes: 3,
      bytes: Uint8Array.from({ length: 9000 + 3 * j }, (_, k) => (k * 5 + j) & 0xff),
    }));
    const rs = await dev.inferStream(inputs, { addr: 1000, lanes: 3, count: 30 });
    rs.forEach((r, j) => {
      expect([...r.output]).toEqual([...inputs[j].bytes.subarray(0, 30)]);
      expect(r.cycles).toBeGreaterThan(0);
    });
    // 9000 bytes are more than one frame (8188 bytes of payload): two parts each, three
    // requests in flight, and not a frame dropped for want of a bank
    expect((await dev.identify()).rxDropped).toBe(0);
  });

  it('is usable by a new host after a host was killed mid-transfer', async () => {
    await dev.close();
    const script = path.join(REPO_ROOT, 'test', 'sim', 'helpers', 'busy-host.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', script, board.path], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve())); // it is connected and writing
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // The device first finishes receiving what the killed host left in the pty (up to
    // two 8 kB frames, 1.3 M simulated cycles): on a loaded machine that can take longer
    // than a fresh board's IDENTIFY budget, so this host is patient (about 10 s).
    dev = await Device.connect(await SerialTransport.open(board.path, { baudRate: 115200 }), {
      ...linkOpts,
      identifyRetries: 20,
    });
    const w = Uint32Array.from({ length: 300 }, (_, k) => k + 0xabc);
    await dev.write(Space.WMEM, 500, w);
    expect(await dev.read(Space.WMEM, 500, 300)).toEqual(w);
  });
});

describe('runs that must be stopped', () => {
  for (const [what, program] of [
    ['a program that runs for millions of cycles', longProgram()],
    ['a CONV descriptor of nonsense (every field all ones)', garbageProgram()],
  ] as const) {
    it(`${what}: a new host's RESET stops it within a second, and IDENTIFY answers`, async () => {
      await dev.write(Space.DMEM, 0, program);
      // a host starts the run and goes away without its answer
      const first = dev.link.request(Cmd.RUN, Uint8Array.of(0), { barrier: true }).catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, 300));
      await dev.close();
      await first;
      const t0 = Date.now();
      dev = await connect(board.path);
      expect(Date.now() - t0).toBeLessThan(1000);
      expect(dev.info.version).toBe(2);
      const w = Uint32Array.of(7, 8, 9);
      await dev.write(Space.AMEM, 40, w);
      expect(await dev.read(Space.AMEM, 40, 3)).toEqual(w);
      await dev.write(Space.DMEM, 0, new Uint32Array(16));
      expect(await dev.run()).toBeGreaterThan(0);
    });
  }

  it('stops a run past its cycle limit (the watchdog) and says so in one line', async () => {
    await dev.write(Space.DMEM, 0, longProgram());
    dev.setCycleBound(100_000); // limit 2^20 cycles; the program needs over 2 M
    const err = await dev.run().catch((e: unknown) => e);
    dev.setCycleBound(null);
    expect(err).toBeInstanceOf(DeviceError);
    expect((err as Error).message).toMatch(
      /device refused RUN with WATCHDOG: the run reached its limit of 1048576 cycles and the device stopped it/,
    );
    expect((await dev.identify()).version).toBe(2);
  });
});

describe('link faults', () => {
  it('stays exact at a bit-error rate of 1e-4, counting retransmissions', async () => {
    const noisy = await startBoardSim({ ber: 1e-4, seed: 7, stderr: 'pipe', maxIdle: 120 }, exe);
    const d = await Device.connect(await SerialTransport.open(noisy.path, { baudRate: 115200 }), {
      ...linkOpts,
      baseTimeoutMs: 150,
      retries: 20,
      identifyRetries: 20,
    });
    try {
      for (let k = 0; k < 25; k++) {
        const w = Uint32Array.from({ length: 64 }, (_, i) => (i * 2654435761 + k * 977) >>> 0);
        await d.write(Space.WMEM, 64 * k, w);
        expect(await d.read(Space.WMEM, 64 * k, 64)).toEqual(w);
      }
      expect(d.stats.retransmissions).toBeGreaterThan(0);
      console.log(
        `ber 1e-4: ${d.stats.requests} requests, ${d.stats.retransmissions} retransmissions ` +
          `(${d.stats.timeouts} timeouts, ${d.stats.corruptReplies} corrupt replies)`,
      );
    } finally {
      await d.close();
      await noisy.stop();
    }
    expect(noisy.log()).toMatch(/bits flipped/);
  });

  it('reports a port that does not exist as a device error (exit 2) in one line', async () => {
    const err = await openDevice({ port: '/dev/ttyNOPE9' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceError);
    expect((err as DeviceError).exitCode).toBe(2);
    expect((err as Error).message).toMatch(/\/dev\/ttyNOPE9 does not exist/);
    expect((err as Error).message).not.toContain('\n');
  });

  it('reports a port that never answers as a LinkTimeoutError (exit 2) naming port and baud', async () => {
    const mute = await startBoardSim({ stderr: 'pipe', maxIdle: 60 }, exe);
    mute.process.kill('SIGSTOP'); // the pty exists, nobody answers
    try {
      const t0 = Date.now();
      const err = await openDevice({ port: mute.path, baud: 115200 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LinkTimeoutError);
      expect((err as LinkTimeoutError).exitCode).toBe(2);
      expect((err as Error).message).toMatch(
        new RegExp(`device on ${mute.path} did not answer IDENTIFY within .* baud rate 115200\\?`),
      );
      expect(Date.now() - t0).toBeLessThan(10_000);
    } finally {
      mute.process.kill('SIGCONT');
      await mute.stop();
    }
  });

  // A board that dies or freezes during a run, and one that answers garbage: each is
  // reported in one line within 5 s.
  const midRun = async (fault: (b: SimBoard) => void) => {
    const b = await startBoardSim({ stderr: 'pipe', maxIdle: 60 }, exe);
    const d = await connect(b.path);
    try {
      await d.write(Space.DMEM, 0, longProgram());
      d.setCycleBound(50_000); // what the host believes: a short run
      const t0 = Date.now();
      const running = d.run().catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, 100));
      fault(b);
      const err = await running;
      return { err: err as Error, ms: Date.now() - t0 };
    } finally {
      b.process.kill('SIGCONT');
      await d.close();
      await b.stop();
    }
  };

  it('reports a board killed during a run at once: its port closed', async () => {
    const { err, ms } = await midRun((b) => b.process.kill('SIGKILL'));
    expect(err).toBeInstanceOf(DeviceError);
    expect(err.message).toMatch(/^serial port \/dev\/pts\/\d+ closed: the board was unplugged or reset/);
    expect(err.message).not.toContain('\n');
    expect(ms).toBeLessThan(5000);
  });

  it('reports a board frozen during a run within 5 s: it answered before and then nothing', async () => {
    const { err, ms } = await midRun((b) => b.process.kill('SIGSTOP'));
    expect(err).toBeInstanceOf(LinkTimeoutError);
    expect(err.message).toMatch(/did not answer RUN within .*: it answered before but sent nothing for .* s/);
    expect(err.message).not.toContain('\n');
    expect(ms).toBeLessThan(5000);
  });

  it('tells a port that answers garbage from one that answers nothing', async () => {
    const noisy = await startBoardSim({ berOut: 0.5, stderr: 'pipe', maxIdle: 60 }, exe);
    try {
      const t0 = Date.now();
      const err = await openDevice({ port: noisy.path, baud: 115200 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LinkTimeoutError);
      expect((err as Error).message).toMatch(
        /did not answer IDENTIFY within .*: \d+ bytes came back but no valid reply \(garbage: the wrong baud rate, or another program on the port\?\)/,
      );
      expect(Date.now() - t0).toBeLessThan(10_000);
    } finally {
      await noisy.stop();
    }
  });

  it('passes the self-checking C++ bench of the link (uartsim line model, no pty)', async () => {
    const bench = await buildLinkSelftest();
    const { stdout } = await run(bench, [], { timeout: 300_000 });
    expect(stdout).toMatch(/^PASS: 0 failure\(s\)/m);
    expect(stdout).not.toMatch(/^FAIL/m);
  });
});
