/**
 * Unit: the build stage with the command seam replaced (no process): the model directory is staged into the
 * context and removed again whatever happens, a failed build quotes its last lines, a missing Docker says so,
 * and the id and labels come from docker image inspect.
 */
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

interface FakeResult {
  exitCode: number
  stdout: string
  stderr: string
  tail: string[]
}
const seen: { args: string[]; stagedModel: string | undefined }[] = []
let onBuild: () => FakeResult
let onInspect: () => FakeResult
let context: string
const runCommand = jest.fn(async (_tool: string, args: readonly string[]): Promise<FakeResult> => {
  const modelArg = args.find((a) => a.startsWith('MODEL_DIR=')) ?? 'MODEL_DIR=none'
  const staged = path.join(context, modelArg.slice('MODEL_DIR='.length), 'model.json')
  seen.push({
    args: [...args],
    stagedModel: fs.existsSync(staged) ? fs.readFileSync(staged, 'utf8') : undefined,
  })
  return args[0] === 'build' ? onBuild() : onInspect()
})
jest.unstable_mockModule('../src/exec.js', () => ({ runCommand }))
const { buildImage, stageModelDirectory } = await import('../src/docker/build-image.js')
const { CommandError } = await import('../src/errors.js')
type BuildOptions = import('../src/docker/build-image.js').BuildOptions

let tmp: string
let modelDir: string

const inspectOk = (): FakeResult => ({
  exitCode: 0,
  stdout: JSON.stringify([
    { Id: `sha256:${'a'.repeat(64)}`, Config: { Labels: { 'io.mlsecops.model-name': 'iris' } } },
  ]),
  stderr: '',
  tail: [],
})

function options(overrides: Partial<BuildOptions> = {}): BuildOptions {
  return {
    dockerfile: path.join(context, 'Dockerfile'),
    context,
    image: 'iris:abc1234',
    buildArgs: {},
    modelDir,
    modelName: 'iris',
    created: new Date('2026-01-01T00:00:00Z'),
    ...overrides,
  }
}

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'build-unit-'))
  context = path.join(tmp, 'ctx')
  modelDir = path.join(tmp, 'model')
  fs.mkdirSync(context)
  fs.mkdirSync(modelDir)
  fs.writeFileSync(path.join(context, 'Dockerfile'), 'FROM scratch\n')
  fs.writeFileSync(path.join(modelDir, 'model.json'), '{"format":"test"}')
  seen.length = 0
  runCommand.mockClear()
  onBuild = () => ({ exitCode: 0, stdout: 'Successfully built', stderr: '', tail: [] })
  onInspect = inspectOk
})

afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }))

describe('buildImage', () => {
  it('stages the model for the build, removes it after, and reads id and labels from inspect', async () => {
    const build = await buildImage(options())
    expect(seen[0].args[0]).toBe('build')
    expect(seen[0].stagedModel).toBe('{"format":"test"}')
    expect(seen[1].args).toEqual(['image', 'inspect', 'iris:abc1234'])
    expect(fs.existsSync(path.join(context, '.mlsecops'))).toBe(false)
    expect(build).toMatchObject({
      image: 'iris:abc1234',
      imageId: `sha256:${'a'.repeat(64)}`,
      labels: { 'io.mlsecops.model-name': 'iris' },
    })
    expect(build.requestedLabels['org.opencontainers.image.created']).toBe(
      '2026-01-01T00:00:00.000Z',
    )
  })

  it('keeps a .mlsecops directory the user already had, and never touches a model folder of theirs', () => {
    fs.mkdirSync(path.join(context, '.mlsecops', 'model'), { recursive: true })
    fs.writeFileSync(path.join(context, '.mlsecops', 'notes.txt'), 'mine')
    fs.writeFileSync(path.join(context, '.mlsecops', 'model', 'own.json'), 'mine too')
    const staged = stageModelDirectory(modelDir, context)
    expect(staged.relative).toMatch(/^\.mlsecops\/model-[0-9a-f]{16}$/)
    expect(fs.readdirSync(path.join(context, staged.relative))).toEqual(['model.json'])
    expect(fs.readdirSync(path.join(context, '.mlsecops', 'model'))).toEqual(['own.json'])
    const second = stageModelDirectory(modelDir, context)
    expect(second.relative).not.toBe(staged.relative)
    staged.remove()
    second.remove()
    expect(fs.readdirSync(path.join(context, '.mlsecops')).sort()).toEqual(['model', 'notes.txt'])
  })

  it('refuses a .mlsecops that is a symbolic link and leaves its target alone', () => {
    const outside = path.join(tmp, 'outside')
    fs.mkdirSync(path.join(outside, 'model'), { recursive: true })
    fs.writeFileSync(path.join(outside, 'model', 'keep.txt'), 'keep')
    fs.symlinkSync(outside, path.join(context, '.mlsecops'))
    expect(() => stageModelDirectory(modelDir, context)).toThrow(
      /\.mlsecops in the build context is a symbolic link/,
    )
    expect(fs.readdirSync(outside)).toEqual(['model'])
    expect(fs.readdirSync(path.join(outside, 'model'))).toEqual(['keep.txt'])
  })

  it('a failed build is a CommandError with the last lines, and the staged model is gone', async () => {
    const tail = Array.from({ length: 20 }, (_, i) => `line ${i + 21}`)
    onBuild = () => ({ exitCode: 1, stdout: '', stderr: '', tail })
    const attempt = buildImage(options())
    await expect(attempt).rejects.toBeInstanceOf(CommandError)
    await expect(attempt).rejects.toThrow(
      /^docker build failed \(exit 1\); last lines of the build output: line 21 \| .* \| line 40$/,
    )
    expect(fs.existsSync(path.join(context, '.mlsecops'))).toBe(false)
    expect(seen).toHaveLength(1) // no inspect after a failed build
  })

  it('no docker on the runner: says what the build needs', async () => {
    runCommand.mockRejectedValueOnce(new Error('Unable to locate executable file: docker.'))
    await expect(buildImage(options())).rejects.toThrow(
      /^Could not run docker: Unable to locate executable file: docker\. The build needs the Docker CLI and a running engine/,
    )
    expect(fs.existsSync(path.join(context, '.mlsecops'))).toBe(false)
  })

  it('a missing Dockerfile or context names the input to fix, before anything runs', async () => {
    await expect(buildImage(options({ dockerfile: path.join(tmp, 'nope') }))).rejects.toThrow(
      /fix the 'dockerfile' input/,
    )
    await expect(buildImage(options({ context: path.join(tmp, 'nope') }))).rejects.toThrow(
      /fix the 'context' input/,
    )
    expect(runCommand).not.toHaveBeenCalled()
  })

  it('an inspect that fails or prints no id is a CommandError', async () => {
    onInspect = () => ({
      exitCode: 1,
      stdout: '',
      stderr: '',
      tail: ['Error: No such image: iris:abc1234'],
    })
    await expect(buildImage(options())).rejects.toThrow(
      /docker image inspect iris:abc1234 failed \(exit 1\): Error: No such image/,
    )
    onInspect = () => ({ exitCode: 0, stdout: '[{}]', stderr: '', tail: [] })
    await expect(buildImage(options())).rejects.toThrow(/returned no image id/)
    onInspect = () => ({ exitCode: 0, stdout: 'nope', stderr: '', tail: [] })
    await expect(buildImage(options())).rejects.toThrow(/not JSON/)
  })
})
