// `npm run bench -- <name> [args]`: runs one benchmark. Method and results: docs/performance.md.
import { runMain, UserError } from '../tools/common/cli.ts';

const benches: Record<string, string> = {
  tokens: './tokens.ts',
  target: './target.ts',
  engine: './engine.ts',
};

runMain('bench', async () => {
  const [name, ...rest] = process.argv.slice(2);
  if (!name || name === '--help' || name === '-h') {
    process.stdout.write(`usage: npm run bench -- <${Object.keys(benches).join('|')}> [args]\n`);
    return name ? 0 : 2;
  }
  const path = benches[name];
  if (!path) throw new UserError(`unknown benchmark "${name}"; choose one of ${Object.keys(benches).join(', ')}`);
  const mod = (await import(path)) as { main: (args: string[]) => Promise<number> };
  return mod.main(rest);
});
