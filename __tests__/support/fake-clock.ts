import type { Clock } from '../../src/http/retry.js'

/** A clock that only moves when slept on (or advanced by hand); records every sleep. */
export function fakeClock(start = Date.parse('2026-01-01T00:00:00Z')): Clock & {
  sleeps: number[]
  advance(ms: number): void
} {
  let now = start
  const sleeps: number[] = []
  return {
    sleeps,
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms)
      now += ms
    },
    advance: (ms: number) => {
      now += ms
    },
  }
}
