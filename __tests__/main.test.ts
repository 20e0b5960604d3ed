import { afterEach, describe, expect, test } from '@jest/globals'
import * as fs from 'node:fs'
import { loadRunHarness } from './support/run-harness.js'

// run() with @actions/core mocked (jest.unstable_mockModule), the build and scan stages recorded, and no
// process allowed to start.
const h = await loadRunHarness()
afterEach(() => h.cleanup())

describe('run()', () => {
  test('Iris with no inputs: sets accuracy and model-dir, writes the summary, does not fail', async () => {
    const paths = h.prepare()
    await h.run()
    expect(h.record.failed).toEqual([])
    const accuracy = Number(h.record.outputs.get('accuracy'))
    expect(accuracy).toBeGreaterThanOrEqual(0.93)
    const modelDir = h.record.outputs.get('model-dir')!
    expect(modelDir.startsWith(paths.runnerTemp)).toBe(true)
    expect(fs.existsSync(`${modelDir}/model.json`)).toBe(true)
    expect(h.record.outputs.get('gate')).toBe('passed')
    // No tracking URI: register is skipped and its outputs are empty.
    expect(h.record.outputs.get('run-id')).toBe('')
    const summary = fs.readFileSync(paths.summaryFile, 'utf8')
    expect(summary).toMatch(/### Model/)
    expect(summary).toMatch(/\| Accuracy \| 0\.9/)
    expect(summary).toMatch(/Confusion matrix/)
    expect(summary).toMatch(/\| setosa \| 10 \| 0 \| 0 \|/)
    // The default image is <repository name>:<short sha>; the build stage got the trained model.
    expect(h.buildImage).toHaveBeenCalledTimes(1)
    expect(h.buildImage.mock.calls[0][0]).toMatchObject({ image: 'iris-demo:0123456', modelDir })
    expect(h.record.commands).toEqual([])
  })

  test('min-accuracy 0.99: the same outputs, then fails last with the accuracy and the bar', async () => {
    const paths = h.prepare({ 'min-accuracy': '0.99' })
    await h.run()
    const accuracy = h.record.outputs.get('accuracy')
    expect(Number(accuracy)).toBeGreaterThanOrEqual(0.93)
    expect(Number(accuracy)).toBeLessThan(0.99)
    expect(h.record.outputs.get('model-dir')).toBeTruthy()
    expect(h.record.outputs.get('gate')).toBe('failed')
    expect(h.record.failed).toHaveLength(1)
    const message = h.record.failed[0]
    expect(message).toContain(`accuracy ${accuracy}`)
    expect(message).toContain('min-accuracy 0.99')
    expect(message).not.toMatch(/[\r\n]/)
    // Outputs first, failure last; the summary was written and shows the gate failed.
    const events = h.record.events
    expect(events.indexOf('output:accuracy')).toBeLessThan(events.indexOf('failed'))
    expect(events.indexOf('output:gate')).toBeLessThan(events.indexOf('failed'))
    expect(events[events.length - 1]).toBe('failed')
    expect(fs.readFileSync(paths.summaryFile, 'utf8')).toMatch(/failed \(min-accuracy 0\.99\)/)
  })

  test('a bad input fails with one line naming it, no stack trace, before any stage runs', async () => {
    h.prepare({ 'test-size': '1.5' })
    await h.run()
    expect(h.record.failed).toHaveLength(1)
    const message = h.record.failed[0]
    expect(message).toBe("Input 'test-size' is '1.5': use a number in (0, 1).")
    expect(message).not.toMatch(/\n|\bat .*\(|Error:/)
    expect(h.record.outputs.has('accuracy')).toBe(false)
    expect(h.buildImage).not.toHaveBeenCalled()
    expect(h.record.commands).toEqual([])
  })

  test('a broken dataset fails with one line naming the dataset input', async () => {
    const paths = h.prepare({ dataset: 'data.csv' })
    fs.writeFileSync(`${paths.workspace}/data.csv`, 'a,b,label\n1,2,x\n3,oops,y\n')
    await h.run()
    expect(h.record.failed).toEqual([
      "Input 'dataset' (data.csv): line 3, column 'b' is 'oops'; features must be finite numbers.",
    ])
  })

  test('build false: trains, sets outputs, builds nothing', async () => {
    h.prepare({ build: 'false' })
    await h.run()
    expect(h.record.failed).toEqual([])
    expect(h.record.outputs.get('accuracy')).toBeTruthy()
    expect(h.buildImage).not.toHaveBeenCalled()
    expect(h.scanImage).not.toHaveBeenCalled()
  })
})
