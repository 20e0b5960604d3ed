// ml-logistic-regression ships no types; this declares the part the action uses.
declare module 'ml-logistic-regression' {
  import type { Matrix } from 'ml-matrix'

  export interface LogisticRegressionOptions {
    numSteps?: number
    learningRate?: number
  }

  export default class LogisticRegression {
    constructor(options?: LogisticRegressionOptions)
    numSteps: number
    learningRate: number
    numberClasses: number
    train(x: Matrix, y: Matrix): void
    predict(x: Matrix): number[]
    toJSON(): unknown
    static load(model: unknown): LogisticRegression
  }
}
