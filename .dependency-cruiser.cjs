/**
 * `npm run lint:deps`: no import cycles in src/, type-only imports included (a type cycle still
 * ties two modules together and blocks splitting them).
 * TypeScript 7 has no JavaScript compiler API, so dependency-cruiser parses with swc.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Move the shared type or function into a module both sides import (e.g. src/cli/context.ts, src/oauth/provider-config.ts).',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    parser: 'swc',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
  },
};
