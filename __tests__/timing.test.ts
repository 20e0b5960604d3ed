import { describe, expect, it } from '@jest/globals'
import { StageTimer, formatDuration, renderStageTimes } from '../src/timing.js'

function clock(...ticks: number[]): () => number {
  return () => {
    const next = ticks.shift()
    if (next === undefined) throw new Error('clock read too often')
    return next
  }
}

describe('StageTimer', () => {
  it('laps record the time since the previous lap, and a stage timed twice adds up', () => {
    const timer = new StageTimer(clock(0, 400, 1600, 4100, 4300))
    timer.lap('train')
    timer.lap('build')
    timer.lap('publish')
    timer.lap('publish')
    expect(timer.entries()).toEqual([
      { stage: 'train', ms: 400 },
      { stage: 'build', ms: 1200 },
      { stage: 'publish', ms: 2700 },
    ])
  })

  it('time() records a stage that throws, and the next lap starts where it ended', async () => {
    const timer = new StageTimer(clock(0, 10, 30, 100))
    await expect(
      timer.time('scan', () => {
        throw new Error('boom')
      }),
    ).rejects.toThrow('boom')
    timer.lap('publish')
    expect(timer.entries()).toEqual([
      { stage: 'scan', ms: 20 },
      { stage: 'publish', ms: 70 },
    ])
  })
})

describe('renderStageTimes', () => {
  it('is one line with every stage and the total', () => {
    const line = renderStageTimes([
      { stage: 'train', ms: 412 },
      { stage: 'build', ms: 3050 },
      { stage: 'scan', ms: 75_000 },
    ])
    expect(line).toBe(
      '**Time per stage:** train 0.4 s · build 3.0 s · scan 1 min 15 s · total 1 min 18 s',
    )
    expect(line).not.toContain('\n')
  })

  it('is empty when no stage ran', () => {
    expect(renderStageTimes([])).toBe('')
  })

  it('formats durations', () => {
    expect(formatDuration(0)).toBe('0.0 s')
    expect(formatDuration(59_940)).toBe('59.9 s')
    expect(formatDuration(60_000)).toBe('1 min 00 s')
    expect(formatDuration(-5)).toBe('0.0 s')
  })
})
