// Port scanning without udev: /dev/ttyUSB* and /dev/ttyACM* of a device folder, with the
// stable /dev/serial/by-id names, on a folder laid out like /dev.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanPorts } from '../../../host/commands/ports.ts';
import { tempDir } from '../helpers.ts';

describe('scanPorts', () => {
  it('lists USB serial ports in numeric order with their by-id names, and nothing else', () => {
    const dev = tempDir();
    for (const n of ['ttyUSB10', 'ttyUSB2', 'ttyACM0', 'ttyS0', 'tty1', 'null', 'ttyUSB'])
      writeFileSync(join(dev, n), '');
    mkdirSync(join(dev, 'serial', 'by-id'), { recursive: true });
    symlinkSync(join(dev, 'ttyUSB2'), join(dev, 'serial', 'by-id', 'usb-FTDI_Dual_RS232-HS-if01-port0'));
    symlinkSync(join(dev, 'gone'), join(dev, 'serial', 'by-id', 'usb-dangling'));
    const ports = scanPorts(dev);
    expect(ports.map((p) => p.path)).toEqual([
      join(dev, 'ttyACM0'),
      join(dev, 'ttyUSB2'),
      join(dev, 'ttyUSB10'),
    ]);
    expect(ports.map((p) => p.byId)).toEqual([
      null,
      join(dev, 'serial', 'by-id', 'usb-FTDI_Dual_RS232-HS-if01-port0'),
      null,
    ]);
    expect(ports[0]).toMatchObject({
      manufacturer: null,
      vendorId: null,
      productId: null,
      serialNumber: null,
    });
  });

  it('lists a by-id device under another name too, and nothing for an empty or missing folder', () => {
    const dev = tempDir();
    mkdirSync(join(dev, 'serial', 'by-id'), { recursive: true });
    writeFileSync(join(dev, 'ttyAMA0'), '');
    symlinkSync(join(dev, 'ttyAMA0'), join(dev, 'serial', 'by-id', 'usb-board'));
    expect(scanPorts(dev).map((p) => [p.path, p.byId])).toEqual([
      [join(dev, 'ttyAMA0'), join(dev, 'serial', 'by-id', 'usb-board')],
    ]);
    expect(scanPorts(tempDir())).toEqual([]);
    expect(scanPorts(join(dev, 'no-such-folder'))).toEqual([]);
  });
});
