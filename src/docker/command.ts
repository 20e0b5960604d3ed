/** The exec wrapper moved to src/exec.ts (every tool uses it); this re-export keeps older imports working. */
export * from '../exec.js'
