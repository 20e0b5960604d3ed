/** Feature standardization, fitted on the training rows only. */
export interface Standardizer {
  means: number[]
  scales: number[]
}

/** Means and population standard deviations (as scikit-learn's StandardScaler); a constant column scales by 1. */
export function fitStandardizer(features: Float64Array, rows: number[], nf: number): Standardizer {
  const means = new Array<number>(nf).fill(0)
  const scales = new Array<number>(nf).fill(0)
  for (const r of rows) for (let j = 0; j < nf; j++) means[j] += features[r * nf + j]
  for (let j = 0; j < nf; j++) means[j] /= rows.length
  for (const r of rows) {
    for (let j = 0; j < nf; j++) {
      const d = features[r * nf + j] - means[j]
      scales[j] += d * d
    }
  }
  for (let j = 0; j < nf; j++) {
    const sd = Math.sqrt(scales[j] / rows.length)
    scales[j] = sd > 0 && Number.isFinite(sd) ? sd : 1
  }
  return { means, scales }
}

/** Standardized rows with a leading intercept column of ones: rows x (1 + nf). */
export function designRows(
  features: ArrayLike<number>,
  rows: number[],
  nf: number,
  s: Standardizer,
): number[][] {
  return rows.map((r) => {
    const out = new Array<number>(nf + 1)
    out[0] = 1
    for (let j = 0; j < nf; j++) out[j + 1] = (features[r * nf + j] - s.means[j]) / s.scales[j]
    return out
  })
}
