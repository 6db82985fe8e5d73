// Layers of src/, bottom first; a module may import only from its own layer or one below it:
//   errors  <-  schema-types  <-  provider  <-  connect, lint  <-  schema-diff  <-  runner  <-  cli, testing
// (errors holds the error types every layer shares; schema-types imports nothing of ours.)
const layers = ['errors', 'schema-types', 'provider', 'connect', 'lint', 'schema-diff', 'runner', 'cli', 'testing']
// Layers of one rank sit side by side: neither imports the other.
const rank = {
  errors: 0,
  'schema-types': 1,
  provider: 2,
  connect: 3,
  lint: 3,
  'schema-diff': 4,
  runner: 5,
  cli: 6,
  testing: 6,
}

const upward = layers.flatMap((from) =>
  layers
    .filter((to) => to !== from && rank[to] >= rank[from])
    .map((to) => ({
      name: `${from}-not-to-${to}`,
      comment: `src/${from} sits below (or beside) src/${to}: imports point down the layers only`,
      severity: 'error',
      from: { path: `^src/${from}/` },
      to: { path: `^src/${to}/` },
    })),
)

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'import cycles make a change in one file ripple through the loop',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...upward,
    {
      name: 'lint-only-for-cli',
      comment: 'src/lint (the migration linter) serves the command line alone',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(cli|lint)/' },
      to: { path: '^src/lint/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
}
