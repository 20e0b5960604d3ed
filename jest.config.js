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
  // Global: it also bounds beforeAll/afterAll hooks, where integration tests start real servers.
  testTimeout: 300000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/__tests__/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/__tests__/**/*.itest.ts'],
      testTimeout: 600000,
    },
  ],
}
