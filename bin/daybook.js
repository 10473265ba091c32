#!/usr/bin/env node
// Launcher for the `daybook` CLI: registers tsx's loader so the TypeScript
// sources run as they are, from any working directory (paths resolve from this
// file, not the cwd), then exits with the command's code once stdio is flushed.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../src/cli/daybook.ts');
const code = await runCli(process.argv.slice(2));
await Promise.all([process.stdout, process.stderr].map((stream) => new Promise((resolve) => stream.write('', resolve))));
process.exit(code);
