// nnfpga ports: the serial ports a board may be on. node-serialport's list() needs
// udevadm on Linux; without it the /dev/ttyUSB*, /dev/ttyACM* and /dev/serial/by-id
// entries are scanned instead.
import { autoDetect } from '@serialport/bindings-cpp';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { emit, type Register } from './common.ts';

export interface PortInfo {
  path: string;
  manufacturer: string | null;
  serialNumber: string | null;
  vendorId: string | null;
  productId: string | null;
  /** The stable /dev/serial/by-id name, when there is one. */
  byId: string | null;
}

function byIdNames(dir = '/dev/serial/by-id'): Map<string, string> {
  const names = new Map<string, string>();
  if (!existsSync(dir)) return names;
  for (const n of readdirSync(dir)) {
    try {
      names.set(realpathSync(path.join(dir, n)), path.join(dir, n));
    } catch {
      // a dangling link: the device went away
    }
  }
  return names;
}

/** Serial ports by /dev scan (no udev needed). */
export function scanPorts(devDir = '/dev'): PortInfo[] {
  const ids = byIdNames(path.join(devDir, 'serial', 'by-id'));
  const paths = existsSync(devDir)
    ? readdirSync(devDir)
        .filter((n) => /^tty(USB|ACM)\d+$/.test(n))
        .map((n) => path.join(devDir, n))
    : [];
  for (const real of ids.keys()) if (!paths.includes(real)) paths.push(real);
  return paths
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    .map((p) => ({
      path: p,
      manufacturer: null,
      serialNumber: null,
      vendorId: null,
      productId: null,
      byId: ids.get(p) ?? null,
    }));
}

export async function listPorts(): Promise<{ source: 'serialport' | 'scan'; ports: PortInfo[] }> {
  try {
    const found = await autoDetect().list();
    const ids = byIdNames();
    return {
      source: 'serialport',
      ports: found.map((p) => ({
        path: p.path,
        manufacturer: p.manufacturer ?? null,
        serialNumber: p.serialNumber ?? null,
        vendorId: p.vendorId ?? null,
        productId: p.productId ?? null,
        byId: ids.get(p.path) ?? null,
      })),
    };
  } catch {
    return { source: 'scan', ports: scanPorts() };
  }
}

export function formatPorts(source: 'serialport' | 'scan', ports: PortInfo[]): string {
  if (ports.length === 0)
    return 'no serial ports found (is the board plugged in? the simulated board is `nnfpga sim`)';
  const rows = ports.map((p) => {
    const usb = p.vendorId ? ` ${p.vendorId}:${p.productId}` : '';
    const who = p.manufacturer ? ` ${p.manufacturer}` : '';
    return `${p.path}${usb}${who}${p.byId ? `  (${p.byId})` : ''}`;
  });
  if (source === 'scan') rows.push('(udevadm not available: listed from /dev)');
  return rows.join('\n');
}

export const registerPorts: Register = (program) => {
  program
    .command('ports')
    .description('list serial ports (boards appear as /dev/ttyUSB* or /dev/ttyACM*)')
    .action(async (_opts, cmd) => {
      const { source, ports } = await listPorts();
      emit(cmd.optsWithGlobals(), { source, ports }, () => formatPorts(source, ports));
    });
};
