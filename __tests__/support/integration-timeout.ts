import { jest } from '@jest/globals'

// The integration project's budget: real servers start in beforeAll hooks and images build and scan in tests.
// Jest reads `testTimeout` from the global config only (a project-level value is ignored), so the long budget
// is set here, in the integration project's setupFilesAfterEnv; it reaches hooks as well as tests.
jest.setTimeout(600_000)
