import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

// The house has layers that only point down: a module may import from its own layer or a
// lower one, never from a higher one, and no chain of imports (type-only ones included) comes
// back to where it started.

const SRC = path.resolve(__dirname, '../src');

/**
 * Bottom to top. A module belongs to the first layer one of whose patterns matches its path
 * (relative to src/, without the extension).
 */
const LAYERS: ReadonlyArray<{ name: string; modules: RegExp[] }> = [
  // View types, topics and event shapes; the configuration. They import nothing of ours.
  { name: 'domain', modules: [/^domain\//, /^config$/] },
  // Infrastructure every feature uses: SQL pool, ORM bootstrapping, errors, limits, relay...
  { name: 'shared', modules: [/^shared\//] },
  // The realtime engine (bus, graphql-ws protocol, delivery, streams, presence): it reaches the
  // features only through interfaces they implement (realtime.service.ts, ws-server.ts).
  { name: 'realtime', modules: [/^realtime\/(?!realtime\.resolver$|event\.types$)/] },
  // Features, each over the ones below it: a channel has an owner, a message a channel.
  { name: 'accounts', modules: [/^accounts\//] },
  { name: 'channels', modules: [/^channels\//] },
  { name: 'messages', modules: [/^messages\//] },
  // Threads, reactions, pins and edit history: over messages (a deletion reaches them through
  // MessageDeps.deletionHooks, wired in app.ts).
  { name: 'conversations', modules: [/^conversations\//] },
  { name: 'search', modules: [/^search\//] },
  // Mentions, notifications and read receipts: over messages and channels, which call it
  // through the hooks they define (MessageHooks, ChannelHooks).
  { name: 'attention', modules: [/^attention\//] },
  // The GraphQL face of the realtime engine: live event types over every feature's types.
  { name: 'realtime-api', modules: [/^realtime\/realtime\.resolver$/, /^realtime\/event\.types$/] },
  { name: 'ops', modules: [/^ops\//, /^explorer\//, /^http\//, /^web\//] },
  // The composition root: the schema, the ORM's entity list, the app.
  { name: 'root', modules: [/^schema$/, /^database$/, /^app$/, /^mikro-orm\.config$/] },
  { name: 'main', modules: [/^main$/] },
];

function layerOf(module: string): number {
  return LAYERS.findIndex((layer) => layer.modules.some((pattern) => pattern.test(module)));
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** A module's name: its path under src/ without `.ts` (`channels/access`). */
const moduleName = (file: string) => path.relative(SRC, file).replace(/\.ts$/, '').split(path.sep).join('/');

/** The modules of src/ a file imports (import, export ... from, import(), require), type-only ones included. */
function importsOf(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
  const found: string[] = [];
  for (const { fileName } of importedFiles) {
    if (!fileName.startsWith('.')) continue;
    const target = path.resolve(path.dirname(file), fileName);
    const candidates = [`${target}.ts`, path.join(target, 'index.ts')];
    const resolved = candidates.find((candidate) => fs.existsSync(candidate));
    // Outside src/ (migrations/) is not a layer of the app.
    if (resolved && !path.relative(SRC, resolved).startsWith('..')) found.push(moduleName(resolved));
  }
  return found;
}

/** Every import that runs up a layer, as `from (layer) -> to (layer)`. */
function upwardImports(graph: Map<string, string[]>): string[] {
  const violations: string[] = [];
  for (const [from, targets] of graph) {
    for (const to of targets) {
      if (layerOf(to) > layerOf(from)) violations.push(`${from} (${LAYERS[layerOf(from)].name}) -> ${to} (${LAYERS[layerOf(to)].name})`);
    }
  }
  return violations;
}

/** One import cycle per strongly connected group of modules, as `a -> b -> a`. */
function cycles(graph: Map<string, string[]>): string[] {
  const found: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (module: string) => {
    state.set(module, 'open');
    stack.push(module);
    for (const next of graph.get(module) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next].join(' -> '));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(module, 'done');
  };
  for (const module of graph.keys()) if (!state.has(module)) visit(module);
  return found;
}

describe('layers of src/', () => {
  const graph = new Map(sourceFiles(SRC).map((file) => [moduleName(file), importsOf(file)]));

  it('reads the imports of every module', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.get('app')).toEqual(expect.arrayContaining(['schema', 'database', 'shared/sql']));
    // Type-only imports count: they are dependencies too.
    expect(graph.get('channels/channel.loader')).toEqual(expect.arrayContaining(['accounts/user.loader', 'domain/snapshots']));
  });

  it('puts every module in a layer', () => {
    expect([...graph.keys()].filter((module) => layerOf(module) < 0)).toEqual([]);
  });

  it('has no import that runs up a layer', () => {
    expect(upwardImports(graph)).toEqual([]);
  });

  it('has no import cycle', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('keeps domain/ free of any other module of ours', () => {
    const outward = [...graph].filter(([module]) => module.startsWith('domain/')).flatMap(([module, targets]) => targets.filter((to) => !to.startsWith('domain/')).map((to) => `${module} -> ${to}`));
    expect(outward).toEqual([]);
  });

  it('would catch an upward import and a cycle', () => {
    const bad = new Map([
      ['shared/sql', ['channels/access']],
      ['channels/access', ['shared/sql']],
    ]);
    expect(upwardImports(bad)).toEqual(['shared/sql (shared) -> channels/access (channels)']);
    expect(cycles(bad)).toEqual(['shared/sql -> channels/access -> shared/sql']);
  });
});
