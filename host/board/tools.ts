// Runs the external FPGA tools (yosys, nextpnr-ice40, icepack, openFPGALoader) as child
// processes, capturing their output; a missing tool is a MissingToolError (exit code 1,
// not a device failure) naming the package to install.
import { spawn } from 'node:child_process';
import { MissingToolError } from '../errors.ts';

export interface ToolRun {
  code: number;
  stdout: string;
  stderr: string;
}

const PACKAGES: Record<string, string> = {
  yosys: 'yosys',
  'nextpnr-ice40': 'nextpnr-ice40',
  icepack: 'fpga-icestorm',
  icetime: 'fpga-icestorm fpga-icestorm-chipdb',
  openFPGALoader: 'openfpgaloader',
};

export function runTool(cmd: string, args: string[], opts: { cwd?: string } = {}): Promise<ToolRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        const pkg = PACKAGES[cmd] ?? cmd;
        reject(
          new MissingToolError(
            `${cmd} not found on PATH: install it (apt-get install ${pkg}; in a clone, make deps installs every tool)`,
          ),
        );
      } else reject(err);
    });
    child.on('close', (code) => resolvePromise({ code: code ?? 1, stdout, stderr }));
  });
}
