package dev.trainfeed.demo;

/**
 * A multinomial logistic regression trained by mini-batch gradient descent: small enough to read,
 * real enough that its loss falls on the digits. Data-parallel ranks each compute a gradient on
 * their own batch; {@link #step} averages them, as an all-reduce would.
 */
final class SoftmaxRegression {
  private final int features;
  private final int classes;
  private final double[] weights;
  private final double learningRate;

  SoftmaxRegression(int features, int classes, double learningRate) {
    this.features = features;
    this.classes = classes;
    this.weights = new double[(features + 1) * classes];
    this.learningRate = learningRate;
  }

  /** Gradient of the mean cross-entropy on one batch; returns the loss in {@code lossOut[0]}. */
  double[] gradient(float[] x, long[] y, double[] lossOut) {
    int n = y.length;
    double[] grad = new double[weights.length];
    double[] logits = new double[classes];
    double loss = 0;
    for (int i = 0; i < n; i++) {
      double max = Double.NEGATIVE_INFINITY;
      for (int c = 0; c < classes; c++) {
        double z = weights[features * classes + c];
        for (int f = 0; f < features; f++) {
          z += weights[f * classes + c] * x[i * features + f];
        }
        logits[c] = z;
        max = Math.max(max, z);
      }
      double sum = 0;
      for (int c = 0; c < classes; c++) {
        logits[c] = Math.exp(logits[c] - max);
        sum += logits[c];
      }
      int label = (int) y[i];
      loss -= Math.log(logits[label] / sum);
      for (int c = 0; c < classes; c++) {
        double d = logits[c] / sum - (c == label ? 1 : 0);
        for (int f = 0; f < features; f++) {
          grad[f * classes + c] += d * x[i * features + f] / n;
        }
        grad[features * classes + c] += d / n;
      }
    }
    lossOut[0] = loss / n;
    return grad;
  }

  /** Applies the average of the ranks' gradients. */
  void step(double[]... grads) {
    for (double[] g : grads) {
      for (int i = 0; i < weights.length; i++) {
        weights[i] -= learningRate * g[i] / grads.length;
      }
    }
  }

  /** Index of the most likely class of sample {@code i}. */
  int predict(float[] x, int i) {
    int best = 0;
    double bestZ = Double.NEGATIVE_INFINITY;
    for (int c = 0; c < classes; c++) {
      double z = weights[features * classes + c];
      for (int f = 0; f < features; f++) {
        z += weights[f * classes + c] * x[i * features + f];
      }
      if (z > bestZ) {
        bestZ = z;
        best = c;
      }
    }
    return best;
  }
}
