/** The built `pgload` binary, run as a user would, and scratch files for its inputs and outputs. */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { scratchDir } from './scratch';

export const CLI = path.resolve(__dirname, '../../dist/cli.js');

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `pgload` binary, as a user would, with only the environment given (no PG* from the machine). */
export function pgload(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`pgload ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export function tmp(name: string, content?: string | Buffer): string {
  const dir = scratchDir('pgload-cli-');
  const file = path.join(dir, name);
  if (content !== undefined) fs.writeFileSync(file, content);
  return file;
}

