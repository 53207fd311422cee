package dev.trainfeed.server.synth;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Runs one ONNX session in fixed-size runs of {@code runSize} rows: rows of concurrent requests
 * are packed together, a run that is not full is padded with zero rows, and a request larger
 * than a run is spread over several. The session therefore always sees the same batch size, so a
 * row's result never depends on how many rows or which other requests shared its run.
 *
 * <p>One worker thread per session drains the queue; requests that arrive while a run executes
 * go into the next run. Concurrent callers come back together but not at the same instant, so
 * while one of the last {@value #HISTORY} runs packed several requests, a run that is not full
 * waits for more (as a dynamic batcher's queue delay does) instead of going out padded: until it
 * is full, or no request has arrived for an eighth of {@code linger}, or {@code linger} has
 * passed. A lone caller never waits.
 */
final class FixedRunBatcher implements AutoCloseable {
  /** How many recent runs decide whether callers share runs. */
  private static final int HISTORY = 4;

  /**
   * One input tensor.
   *
   * @param name graph input name
   * @param int64 whether it is int64 (else float32)
   * @param rowShape shape of one row (without the batch dimension)
   */
  record Input(String name, boolean int64, long[] rowShape) {
    int rowElems() {
      long n = 1;
      for (long d : rowShape) {
        n *= d;
      }
      return Math.toIntExact(n);
    }
  }

  /**
   * One float32 output tensor.
   *
   * @param name graph output name
   * @param rowElems elements of one row
   */
  record Output(String name, int rowElems) {}

  private static final class Job {
    final int rows;
    final Object[] inputs;
    final float[][] outputs;
    final CompletableFuture<float[][]> done = new CompletableFuture<>();
    int nextRow;

    Job(int rows, Object[] inputs, float[][] outputs) {
      this.rows = rows;
      this.inputs = inputs;
      this.outputs = outputs;
    }
  }

  private record Slice(Job job, int from, int rows, int at) {}

  private final OrtEnvironment env;
  private final OrtSession session;
  private final List<Input> inputs;
  private final List<Output> outputs;
  private final Set<String> outputNames = new LinkedHashSet<>();
  private final int runSize;
  private final ByteBuffer[] inputBuffers;
  private final ArrayDeque<Job> queue = new ArrayDeque<>();
  private final long lingerNanos;
  private final Thread worker;
  private boolean closed;
  private long runs;
  private long queuedRows;
  private long arrivals;
  private long lingered;
  /** Runs since the last one that packed several requests. */
  private int sinceShared = HISTORY;

  FixedRunBatcher(OrtEnvironment env, OrtSession session, List<Input> inputs,
      List<Output> outputs, int runSize, Duration linger, String threadName) {
    this.lingerNanos = linger.toNanos();
    this.env = env;
    this.session = session;
    this.inputs = List.copyOf(inputs);
    this.outputs = List.copyOf(outputs);
    this.runSize = runSize;
    outputs.forEach(o -> outputNames.add(o.name()));
    this.inputBuffers = new ByteBuffer[inputs.size()];
    for (int i = 0; i < inputs.size(); i++) {
      int elem = inputs.get(i).int64() ? 8 : 4;
      inputBuffers[i] = ByteBuffer.allocateDirect(runSize * inputs.get(i).rowElems() * elem)
          .order(ByteOrder.nativeOrder());
    }
    this.worker = new Thread(this::work, threadName);
    worker.setDaemon(true);
    worker.start();
  }

  /** Rows per run. */
  int runSize() {
    return runSize;
  }

  /** Session runs executed so far (for tests of the packing). */
  synchronized long runs() {
    return runs;
  }

  /**
   * Computes {@code rows} rows and waits for them.
   *
   * @param rows rows to compute, at least 1
   * @param in one array per input, {@code float[]} or {@code long[]}, {@code rows × rowElems} long
   * @return one array per output, {@code rows × rowElems} long
   * @throws OrtException the session failed
   */
  float[][] run(int rows, Object... in) throws OrtException {
    try {
      return submit(rows, in).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the model", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof OrtException o) {
        throw o;
      }
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new CompletionException(e.getCause());
    }
  }

  /** Queues {@code rows} rows; the future completes with one array per output. */
  CompletableFuture<float[][]> submit(int rows, Object... in) {
    if (rows < 1 || in.length != inputs.size()) {
      throw new IllegalArgumentException("need at least one row and " + inputs.size()
          + " inputs");
    }
    for (int i = 0; i < in.length; i++) {
      int len = in[i] instanceof float[] f ? f.length : ((long[]) in[i]).length;
      if ((in[i] instanceof long[]) != inputs.get(i).int64()
          || len != (long) rows * inputs.get(i).rowElems()) {
        throw new IllegalArgumentException("input " + inputs.get(i).name() + " must hold "
            + rows + " rows of " + inputs.get(i).rowElems() + " "
            + (inputs.get(i).int64() ? "int64" : "float32") + " values");
      }
    }
    float[][] out = new float[outputs.size()][];
    for (int o = 0; o < out.length; o++) {
      out[o] = new float[Math.multiplyExact(rows, outputs.get(o).rowElems())];
    }
    Job job = new Job(rows, in, out);
    synchronized (this) {
      if (closed) {
        throw new IllegalStateException("model was unloaded");
      }
      queue.addLast(job);
      queuedRows += rows;
      arrivals++;
      notifyAll();
    }
    return job.done;
  }

  private void work() {
    List<Job> open = new ArrayList<>();
    while (true) {
      synchronized (this) {
        try {
          while (queue.isEmpty() && open.isEmpty() && !closed) {
            wait();
          }
          linger(open);
        } catch (InterruptedException e) {
          return;
        }
        if (closed) {
          IllegalStateException gone = new IllegalStateException("model was unloaded");
          open.forEach(j -> j.done.completeExceptionally(gone));
          queue.forEach(j -> j.done.completeExceptionally(gone));
          queue.clear();
          return;
        }
        open.addAll(queue);
        queue.clear();
        queuedRows = 0;
      }
      List<Slice> slices = new ArrayList<>();
      int at = 0;
      for (Job j : open) {
        if (at == runSize) {
          break;
        }
        int take = Math.min(runSize - at, j.rows - j.nextRow);
        slices.add(new Slice(j, j.nextRow, take, at));
        j.nextRow += take;
        at += take;
      }
      synchronized (this) {
        // One slice per request: a request spread over several runs has one in each.
        sinceShared = slices.size() > 1 ? 0 : Math.min(HISTORY, sinceShared + 1);
      }
      try {
        runOnce(slices, at);
        for (Slice s : slices) {
          if (s.job.nextRow == s.job.rows && s.from + s.rows == s.job.rows) {
            s.job.done.complete(s.job.outputs);
          }
        }
      } catch (Throwable t) {
        for (Slice s : slices) {
          s.job.done.completeExceptionally(t);
          s.job.nextRow = s.job.rows;
        }
      }
      open.removeIf(j -> j.nextRow == j.rows);
    }
  }

  /**
   * While recent runs packed several requests, waits (the monitor is released while waiting)
   * until the next run is full, no request arrived for a while, or the linger time is over.
   */
  private void linger(List<Job> open) throws InterruptedException {
    if (lingerNanos <= 0 || sinceShared >= HISTORY) {
      return;
    }
    long openRows = 0;
    for (Job j : open) {
      openRows += j.rows - j.nextRow;
    }
    long now = System.nanoTime();
    long deadline = now + lingerNanos;
    long quiet = Math.max(1, lingerNanos / 8);
    long seen = arrivals;
    long quietUntil = now + quiet;
    boolean waited = false;
    while (!closed && openRows + queuedRows < runSize) {
      now = System.nanoTime();
      if (arrivals != seen) {
        seen = arrivals;
        quietUntil = now + quiet;
      }
      long left = Math.min(deadline, quietUntil) - now;
      if (left <= 0) {
        break;
      }
      waited = true;
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
    if (waited) {
      lingered++;
    }
  }

  /** Runs that waited for more requests before they went out (tests). */
  synchronized long lingered() {
    return lingered;
  }

  private void runOnce(List<Slice> slices, int filled) throws OrtException {
    Map<String, OnnxTensor> feed = new HashMap<>();
    try {
      for (int i = 0; i < inputs.size(); i++) {
        Input spec = inputs.get(i);
        int w = spec.rowElems();
        ByteBuffer buf = inputBuffers[i];
        buf.clear();
        long[] shape = new long[spec.rowShape().length + 1];
        shape[0] = runSize;
        System.arraycopy(spec.rowShape(), 0, shape, 1, spec.rowShape().length);
        if (spec.int64()) {
          LongBuffer lb = buf.asLongBuffer();
          for (Slice s : slices) {
            lb.put(s.at * w, (long[]) s.job.inputs[i], s.from * w, s.rows * w);
          }
          for (int k = filled * w; k < runSize * w; k++) {
            lb.put(k, 0L);
          }
          feed.put(spec.name(), OnnxTensor.createTensor(env, lb, shape));
        } else {
          FloatBuffer fb = buf.asFloatBuffer();
          for (Slice s : slices) {
            fb.put(s.at * w, (float[]) s.job.inputs[i], s.from * w, s.rows * w);
          }
          for (int k = filled * w; k < runSize * w; k++) {
            fb.put(k, 0f);
          }
          feed.put(spec.name(), OnnxTensor.createTensor(env, fb, shape));
        }
      }
      try (OrtSession.Result result = session.run(feed, outputNames)) {
        for (int o = 0; o < outputs.size(); o++) {
          Output spec = outputs.get(o);
          OnnxValue v = result.get(spec.name()).orElseThrow();
          FloatBuffer fb = ((OnnxTensor) v).getFloatBuffer();
          if (fb.remaining() != (long) runSize * spec.rowElems()) {
            throw new IllegalStateException("output " + spec.name() + " has "
                + fb.remaining() / runSize + " values per sample, the descriptor says "
                + spec.rowElems());
          }
          for (Slice s : slices) {
            fb.get(s.at * spec.rowElems(), s.job.outputs[o], s.from * spec.rowElems(),
                s.rows * spec.rowElems());
          }
        }
      }
      synchronized (this) {
        runs++;
      }
    } finally {
      feed.values().forEach(OnnxTensor::close);
    }
  }

  /** Stops the worker; queued requests fail. The session is closed by its owner. */
  @Override
  public void close() {
    synchronized (this) {
      closed = true;
      notifyAll();
    }
    try {
      worker.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
