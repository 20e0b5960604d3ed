/**
 * Ends a server a stack module started with `spawn(..., { detached: true })`, by its pid: one signal to the
 * process (or to its whole process group), then SIGKILL to the group if it has not exited after 10 s.
 */
import type { ChildProcess } from 'node:child_process'

/** Resolves once the child has exited; at once when it already has or the first signal finds it gone. */
export async function stopDetachedProcess(
  child: ChildProcess,
  signal: NodeJS.Signals,
  target: 'process' | 'group',
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const pid = child.pid!
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  try {
    process.kill(target === 'group' ? -pid : pid, signal)
  } catch {
    return
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-pid, 'SIGKILL')
    } catch {
      // gone
    }
  }, 10000)
  await exited
  clearTimeout(timer)
}
