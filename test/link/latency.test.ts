// tuneFtdiLatency against a sysfs tree in a temporary folder: the FTDI latency timer of a
// ttyUSB port is set to 1 ms when sysfs lets us, and otherwise one line says how.
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tuneFtdiLatency } from '../../host/link/transport.ts';
import { tempDir } from '../host/helpers.ts';

function fakeSysfs(port: string, latency: string): { root: string; dev: string; file: string } {
  const root = tempDir();
  const dir = join(root, 'sys', 'bus', 'usb-serial', 'devices', port);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'latency_timer');
  writeFileSync(file, latency);
  mkdirSync(join(root, 'dev', 'serial', 'by-id'), { recursive: true });
  writeFileSync(join(root, 'dev', port), '');
  return { root, dev: join(root, 'dev', port), file };
}

describe('FTDI latency timer', () => {
  it('sets a 16 ms timer to 1 ms through sysfs', () => {
    const s = fakeSysfs('ttyUSB1', '16\n');
    const t = tuneFtdiLatency(s.dev, { sysfsRoot: join(s.root, 'sys') });
    expect(t).toMatchObject({ outcome: 'set', wasMs: 16, file: s.file });
    expect(readFileSync(s.file, 'utf8').trim()).toBe('1');
  });

  it('finds the ttyUSB name behind a /dev/serial/by-id link', () => {
    const s = fakeSysfs('ttyUSB3', '16\n');
    const link = join(s.root, 'dev', 'serial', 'by-id', 'usb-FTDI_Dual_RS232-HS-if01-port0');
    symlinkSync('../../ttyUSB3', link);
    expect(tuneFtdiLatency(link, { sysfsRoot: join(s.root, 'sys') }).outcome).toBe('set');
    expect(readFileSync(s.file, 'utf8').trim()).toBe('1');
  });

  it('leaves a timer of 1 ms alone', () => {
    const s = fakeSysfs('ttyUSB0', '1\n');
    const writes: string[] = [];
    const t = tuneFtdiLatency(s.dev, { sysfsRoot: join(s.root, 'sys'), write: (f) => writes.push(f) });
    expect(t.outcome).toBe('already');
    expect(writes).toEqual([]);
  });

  it('says in one line how to set it when sysfs refuses the write', () => {
    const s = fakeSysfs('ttyUSB1', '16\n');
    const t = tuneFtdiLatency(s.dev, {
      sysfsRoot: join(s.root, 'sys'),
      write: () => {
        throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
      },
    });
    expect(t.outcome).toBe('cannot');
    expect(t.advice).toBe(
      `the FTDI latency timer of ttyUSB1 is 16 ms and every reply waits for it; set it to 1 ms: echo 1 | sudo tee ${s.file} (or a udev rule)`,
    );
    expect(t.advice).not.toContain('\n');
    expect(readFileSync(s.file, 'utf8').trim()).toBe('16');
  });

  it('does nothing for a port without a latency timer (a pty, a CDC-ACM port)', () => {
    const root = tempDir();
    expect(tuneFtdiLatency('/dev/pts/7', { sysfsRoot: root }).outcome).toBe('not-ftdi');
  });
});
