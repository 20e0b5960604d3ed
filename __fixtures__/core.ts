/**
 * The one typed mock of @actions/core for unit tests (the shape of actions/typescript-action's
 * __fixtures__/core.ts). In a test file:
 *
 *   import * as core from '../__fixtures__/core.js'
 *   jest.unstable_mockModule('@actions/core', () => core)
 *   const { run } = await import('../src/main.js')   // modules that import @actions/core get the mock
 *
 * Logging and workflow-command functions are quiet jest.fn()s (nothing reaches the runner's stdout); a test
 * that records gives one an implementation (`core.info.mockImplementation(...)`) and resets it itself.
 * `group` runs its function. Everything else (getInput and the other input readers, summary, isDebug,
 * platform...) is the real export, so inputs still come from INPUT_ variables.
 */
import type * as Core from '@actions/core'
import { jest } from '@jest/globals'

// Names exported here shadow the star export; every other export of @actions/core passes through unchanged.
export * from '@actions/core'

export const debug = jest.fn<typeof Core.debug>()
export const info = jest.fn<typeof Core.info>()
export const notice = jest.fn<typeof Core.notice>()
export const warning = jest.fn<typeof Core.warning>()
export const error = jest.fn<typeof Core.error>()
export const setFailed = jest.fn<typeof Core.setFailed>()
export const setOutput = jest.fn<typeof Core.setOutput>()
export const setSecret = jest.fn<typeof Core.setSecret>()
export const exportVariable = jest.fn<typeof Core.exportVariable>()
export const startGroup = jest.fn<typeof Core.startGroup>()
export const endGroup = jest.fn<typeof Core.endGroup>()
export const group = jest.fn(<T>(_name: string, fn: () => Promise<T>): Promise<T> => fn())
