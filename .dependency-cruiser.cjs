/**
 * Herald's import rules, checked in `npm test` (npm run check:deps): no import cycles, and no
 * module importing a layer above its own. The layers, bottom to top, are the data flow of
 * ARCHITECTURE.md: an event is validated (events), encoded (profiles), carried (transports)
 * under a configuration (config), bound to a sink (delivery) or stored (store), queued
 * (outbox), ingested (pipeline), served (api, console, consumer, tally, connect-health),
 * assembled (service), and driven from the command line (cli).
 * @type {import('dependency-cruiser').IConfiguration}
 */
const LAYERS = [
  ['errors.ts', 'log.ts', 'messages.ts', 'shared'],
  ['events'],
  ['profiles'],
  ['transports'],
  ['config'],
  ['delivery', 'store'],
  ['outbox'],
  ['pipeline'],
  ['api', 'console', 'consumer', 'tally', 'connect-health', 'describe'],
  ['service'],
  ['cli', 'index.ts'],
];

const pathOf = (names) => `^src/(${names.map((n) => n.replace(/\./g, '\\.')).join('|')})($|/)`;

const layerRules = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `layer-${i}-not-upwards`,
  severity: 'error',
  comment: `${layer.join(', ')} must not import from a layer above it (${LAYERS.slice(i + 1).flat().join(', ')})`,
  from: { path: pathOf(layer) },
  to: { path: pathOf(LAYERS.slice(i + 1).flat()) },
}));

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'an import cycle', from: {}, to: { circular: true } },
    { name: 'not-to-unresolvable', severity: 'error', from: {}, to: { couldNotResolve: true } },
    // A module of src/ outside every layer (add it to LAYERS): seen from its imports, from what imports it, or alone.
    { name: 'every-module-in-a-layer', severity: 'error', from: { path: '^src/', pathNot: pathOf(LAYERS.flat()) }, to: {} },
    { name: 'every-module-in-a-layer', severity: 'error', from: { path: '^src/' }, to: { path: '^src/', pathNot: pathOf(LAYERS.flat()) } },
    { name: 'no-orphans', severity: 'error', comment: 'a module nothing imports and that imports nothing', from: { orphan: true, path: '^src/', pathNot: '^src/index\\.ts$' }, to: {} },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports are dependencies of the design too.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.build.json' },
    // ESM-only packages resolve through their package.json `exports`.
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'types', 'default'], mainFields: ['module', 'main', 'types'] },
    exclude: { path: '^src/console/assets' },
  },
};
