// A host that connects to the board at argv[2] and keeps writing large frames until it
// is killed: the "killed host" of test/sim/link-board.test.ts.
import { Device, Space } from '../../../host/device.ts';
import { SerialTransport } from '../../../host/link/transport.ts';

const dev = await Device.connect(await SerialTransport.open(process.argv[2], { baudRate: 115200 }), {
  baseTimeoutMs: 500,
});
process.stdout.write('connected\n');
const words = new Uint32Array(20000).fill(0xfeedf00d);
for (;;) await dev.write(Space.WMEM, 0, words);
