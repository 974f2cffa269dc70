import { Command, InvalidArgumentError } from 'commander';
import { startServer } from './server';

function port(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535)
    throw new InvalidArgumentError(`--port must be an integer from 0 to 65535, got "${v}"`);
  return n;
}

const program = new Command('web-lab').description(
  'MatFormer in one browser tab: train, slice, decode and download a MatLM on onnxruntime-web',
);
program
  .command('serve')
  .description('serve the page (cross-origin isolated, so onnxruntime-web can use wasm threads)')
  .option('--port <n>', 'port (0 = any free one)', port, 8080)
  .option(
    '--host <addr>',
    'interface to bind (loopback keeps the page off the network)',
    '127.0.0.1',
  )
  .action(async (o: { port: number; host: string }) => {
    const server = await startServer({ port: o.port, host: o.host });
    process.stdout.write(`web-lab: open ${server.url} (Ctrl-C stops)\n`);
    const stop = () => void server.close().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

program.parseAsync().catch((e: Error) => {
  process.stderr.write(`web-lab: ${e.message}\n`);
  process.exit(1);
});
