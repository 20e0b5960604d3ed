/**
 * The WebAssembly module behind the softmax objective of logistic-model.ts: its bytes, assembled here
 * (no toolchain or package), and its compilation. The objective itself, and the fallback to JavaScript,
 * stay in logistic-model.ts.
 */

/*
 * The softmax objective on small and medium data runs its two matrix products in WebAssembly (128-bit SIMD,
 * two doubles per instruction). The action fits once per process, and JavaScript kernels spend their first
 * few hundred calls in V8's interpreter before the optimizing compiler takes over (on digits that warm-up
 * took about as long as the rest of the fit); a WebAssembly module is compiled to machine code when it is
 * created. The softmax (Math.exp) stays in JavaScript. Large data keeps the JavaScript objective: the module
 * needs its own copy of the rows, and there the warm-up is a small part of the fit.
 *
 * The module's memory (byte offsets, all multiples of 16), with P = d + 1 and K2 = classes rounded up to
 * even: X, nPad rows (1, x_i) (nPad = n rounded up to 4; the extra rows are zeros); W and G feature-major,
 * P x K2 (W[j * K2 + k] = weight j of class k, j = 0 the intercept; columns k >= classes zero); Z and R
 * row-major, nPad x K2 (scores, and softmax - onehot; R is zero outside the n rows and the classes).
 */

/** Up to this many doubles of rows (nPad * (d + 1)) the softmax objective uses the WebAssembly kernels. */
export const WASM_MAX_ROW_DOUBLES = 1 << 21

function uleb(value: number): number[] {
  const out: number[] = []
  let v = value >>> 0
  do {
    const byte = v & 0x7f
    v >>>= 7
    out.push(v === 0 ? byte : byte | 0x80)
  } while (v !== 0)
  return out
}

const wasmGet = (local: number): number[] => [0x20, ...uleb(local)]
const wasmSet = (local: number): number[] => [0x21, ...uleb(local)]
/** i32.const for 0 <= v < 64 (one byte of signed LEB128). */
const wasmI32 = (v: number): number[] => [0x41, v]
const I32_ADD = 0x6a
const I32_MUL = 0x6c
const I32_LT_S = 0x48
const LOOP = [0x03, 0x40]
const END = 0x0b
const V128_LOAD = [0xfd, 0x00, 0x03, 0x00]
const V128_STORE = [0xfd, 0x0b, 0x03, 0x00]
const V128_LOAD64_SPLAT = [0xfd, 0x0a, 0x03, 0x00]
const F64X2_ADD = [0xfd, 0xf0, 0x01]
const F64X2_MUL = [0xfd, 0xf2, 0x01]
const V128_ZERO = [0xfd, 0x0c, ...new Array<number>(16).fill(0)]
/** local = local + (value on the stack after `value`) */
const wasmAddTo = (local: number, value: number[]): number[] => [
  ...wasmGet(local),
  ...value,
  I32_ADD,
  ...wasmSet(local),
]
/** local = local + 1, and back to the start of the innermost loop while local < limit. */
const wasmNextWhile = (local: number, limit: number): number[] => [
  ...wasmAddTo(local, wasmI32(1)),
  ...wasmGet(local),
  ...wasmGet(limit),
  I32_LT_S,
  0x0d,
  0,
]
/** base + local * scale (bytes) */
const wasmOffset = (base: number, local: number, scale: number): number[] => [
  ...wasmGet(base),
  ...wasmGet(local),
  ...wasmGet(scale),
  I32_MUL,
  I32_ADD,
]

/**
 * scores(x, w, z, nPad, p, pairs): Z = X W, four rows at a time, two classes per vector.
 * Params 0..5; i32 locals 6 i, 7 pair, 8 j, 9 px, 10 pw, 11 rowBytes, 12 pairBytes, 13 sixteen, 14 q;
 * v128 locals 15..18 the four rows' sums, 19 the weights.
 */
function wasmScores(): number[] {
  const [X, W, Z, N, P, PAIRS, I, PAIR, J, PX, PW, RS, WS, SIXTEEN, Q] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
  ]
  const A = [15, 16, 17, 18]
  const WV = 19
  // prettier-ignore
  const code = [
    ...wasmI32(8), ...wasmGet(P), I32_MUL, ...wasmSet(RS),
    ...wasmI32(16), ...wasmGet(PAIRS), I32_MUL, ...wasmSet(WS),
    ...wasmI32(16), ...wasmSet(SIXTEEN),
    ...wasmI32(0), ...wasmSet(I),
    ...LOOP,
    ...wasmI32(0), ...wasmSet(PAIR),
    ...LOOP,
    ...A.flatMap((a) => [...V128_ZERO, ...wasmSet(a)]),
    ...wasmOffset(X, I, RS), ...wasmSet(PX),
    ...wasmOffset(W, PAIR, SIXTEEN), ...wasmSet(PW),
    ...wasmI32(0), ...wasmSet(J),
    ...LOOP,
    ...wasmGet(PW), ...V128_LOAD, ...wasmSet(WV),
    ...[0, 1, 2, 3].flatMap((q) => [
      ...wasmGet(A[q]),
      ...wasmGet(PX), ...(q === 0 ? [] : [...wasmGet(RS), ...wasmI32(q), I32_MUL, I32_ADD]),
      ...V128_LOAD64_SPLAT, ...wasmGet(WV), ...F64X2_MUL, ...F64X2_ADD,
      ...wasmSet(A[q]),
    ]),
    ...wasmAddTo(PX, wasmI32(8)),
    ...wasmAddTo(PW, wasmGet(WS)),
    ...wasmNextWhile(J, P),
    END,
    // Row i + q, pair: z + (i + q) * pairBytes + pair * 16.
    ...wasmOffset(Z, PAIR, SIXTEEN), ...wasmGet(I), ...wasmGet(WS), I32_MUL, I32_ADD, ...wasmSet(Q),
    ...[0, 1, 2, 3].flatMap((q) => [
      ...wasmGet(Q), ...(q === 0 ? [] : [...wasmGet(WS), ...wasmI32(q), I32_MUL, I32_ADD]),
      ...wasmGet(A[q]), ...V128_STORE,
    ]),
    ...wasmNextWhile(PAIR, PAIRS),
    END,
    ...wasmAddTo(I, wasmI32(3)),
    ...wasmNextWhile(I, N),
    END,
  ]
  return [2, 9, 0x7f, 5, 0x7b, ...code, END]
}

/**
 * gradient(x, r, g, nPad, p, pairs): G += X^T R, four rows at a time, two classes per vector.
 * Params 0..5; i32 locals 6 i, 7 j, 8 pair, 9 px, 10 pg, 11 pr, 12 rowBytes, 13 pairBytes, 14 q;
 * v128 locals 15..18 the four rows' x_ij, 19 the gradient pair.
 */
function wasmGradient(): number[] {
  const [X, R, G, N, P, PAIRS, I, J, PAIR, PX, PG, PR, RS, WS, Q] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
  ]
  const S = [15, 16, 17, 18]
  const GV = 19
  // prettier-ignore
  const code = [
    ...wasmI32(8), ...wasmGet(P), I32_MUL, ...wasmSet(RS),
    ...wasmI32(16), ...wasmGet(PAIRS), I32_MUL, ...wasmSet(WS),
    ...wasmI32(0), ...wasmSet(I),
    ...LOOP,
    ...wasmOffset(X, I, RS), ...wasmSet(PX),
    ...wasmOffset(R, I, WS), ...wasmSet(PR),
    ...wasmGet(G), ...wasmSet(PG),
    ...wasmI32(0), ...wasmSet(J),
    ...LOOP,
    ...[0, 1, 2, 3].flatMap((q) => [
      ...wasmGet(PX), ...(q === 0 ? [] : [...wasmGet(RS), ...wasmI32(q), I32_MUL, I32_ADD]),
      ...V128_LOAD64_SPLAT, ...wasmSet(S[q]),
    ]),
    ...wasmGet(PR), ...wasmSet(Q),
    ...wasmI32(0), ...wasmSet(PAIR),
    ...LOOP,
    ...wasmGet(PG), ...V128_LOAD, ...wasmSet(GV),
    ...[0, 1, 2, 3].flatMap((q) => [
      ...wasmGet(GV),
      ...wasmGet(S[q]),
      ...wasmGet(Q), ...(q === 0 ? [] : [...wasmGet(WS), ...wasmI32(q), I32_MUL, I32_ADD]),
      ...V128_LOAD, ...F64X2_MUL, ...F64X2_ADD, ...wasmSet(GV),
    ]),
    ...wasmGet(PG), ...wasmGet(GV), ...V128_STORE,
    ...wasmAddTo(PG, wasmI32(16)),
    ...wasmAddTo(Q, wasmI32(16)),
    ...wasmNextWhile(PAIR, PAIRS),
    END,
    ...wasmAddTo(PX, wasmI32(8)),
    ...wasmNextWhile(J, P),
    END,
    ...wasmAddTo(I, wasmI32(3)),
    ...wasmNextWhile(I, N),
    END,
  ]
  return [2, 9, 0x7f, 5, 0x7b, ...code, END]
}

const wasmSection = (id: number, content: number[]): number[] => [
  id,
  ...uleb(content.length),
  ...content,
]
const wasmName = (name: string): number[] => [
  name.length,
  ...Array.from(name, (c) => c.charCodeAt(0)),
]

/** The module: imports memory m.mem, exports scores and gradient (both (i32 x 6) -> ()). */
function softmaxKernelBytes(): Uint8Array {
  const bodies = [wasmScores(), wasmGradient()]
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...wasmSection(1, [1, 0x60, 6, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0]),
    ...wasmSection(2, [1, ...wasmName('m'), ...wasmName('mem'), 0x02, 0x00, 0x01]),
    ...wasmSection(3, [2, 0, 0]),
    ...wasmSection(7, [2, ...wasmName('scores'), 0x00, 0, ...wasmName('gradient'), 0x00, 1]),
    ...wasmSection(10, [2, ...bodies.flatMap((b) => [...uleb(b.length), ...b])]),
  ]) // prettier-ignore
}

/** The parts of the WebAssembly API used here (this project's TypeScript lib has no DOM types). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> }
  Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer }
}

export const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly

let softmaxKernelModule: object | null | undefined

/** The compiled kernels, or null where WebAssembly (with SIMD) is not available. */
export function softmaxKernels(): object | null {
  if (softmaxKernelModule === undefined) {
    softmaxKernelModule = null
    try {
      const bytes = softmaxKernelBytes()
      if (wasmApi !== undefined && wasmApi.validate(bytes)) {
        softmaxKernelModule = new wasmApi.Module(bytes)
      }
    } catch {
      softmaxKernelModule = null
    }
  }
  return softmaxKernelModule
}

export type Kernel = (
  a: number,
  b: number,
  c: number,
  nPad: number,
  p: number,
  pairs: number,
) => void
