// ESM jest: the @actions packages are ES modules, so tests run as ESM through ts-jest
// (npm scripts set NODE_OPTIONS=--experimental-vm-modules).
const common = {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  transformIgnorePatterns: ['/node_modules/'],
}

export default {
  // Unit tests: a small budget (the few slow ones, e.g. the 10 MB SARIF fit, set their own). Jest takes
  // testTimeout from this global level only; the integration project raises it in its setup file.
  testTimeout: 30000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/__tests__/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/__tests__/**/*.itest.ts'],
      setupFilesAfterEnv: ['<rootDir>/__tests__/support/integration-timeout.ts'],
    },
  ],
}
