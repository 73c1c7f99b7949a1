/** What the location–scale families (Normal, Laplace, Logistic, LogNormal, StudentT) share. */
import * as tf from '@tensorflow/tfjs-core';
import { Distribution } from './distribution.js';

/**
 * A family with a location `loc` and a scale `scale` > 0. The compiler passes `knownLogScale`
 * when the scale is written exp(e) (so log(scale) is e, with no exp–log round trip). The mean is
 * `loc`, unless a family says otherwise (LogNormal).
 */
export abstract class LocationScale extends Distribution {
  constructor(readonly loc: tf.Tensor, readonly scale: tf.Tensor, private readonly knownLogScale?: tf.Tensor) {
    super();
  }

  /** log(scale), from the compiler where it knows it. */
  logScale(): tf.Tensor {
    return this.knownLogScale ?? tf.log(this.scale);
  }

  mean(shape: number[]): tf.Tensor {
    return tf.broadcastTo(this.loc, shape);
  }
}
