#!/usr/bin/python3
"""An independent Python client of the TrainFeed wire contract, used by PythonClientIT.

  polyglot_client.py make DIR N          writes image.npy, label.npy, feat.npy with N samples
  polyglot_client.py check TARGET DIR NAME   streams NAME from TARGET and checks it against DIR

It imports stubs generated from proto/ with Debian's protoc and grpc_python_plugin (PYTHONPATH).
"""
import sys

import numpy as np


def make(out, n):
    rng = np.random.default_rng(1234)
    np.save(f"{out}/image.npy", rng.integers(0, 256, size=(n, 4, 4, 3), dtype=np.uint8))
    np.save(f"{out}/label.npy", rng.integers(0, 10, size=(n,), dtype=np.int64))
    np.save(f"{out}/feat.npy", rng.standard_normal(size=(n, 5)).astype(np.float32))


def check(target, src, name):
    import grpc
    from trainfeed.v1 import dataplane_pb2 as pb

    from contract_checks import DTYPES as dtypes, Checks, connect
    source = {f: np.load(f"{src}/{f}.npy") for f in ("image", "label", "feat")}
    n = len(source["label"])
    stub = connect(target)
    checks = Checks("python client")
    expect = checks.expect

    names = [d.name for d in stub.ListDatasets(pb.ListDatasetsRequest()).datasets]
    expect(name in names, f"ListDatasets lists {name}: {names}")
    info = stub.GetDataset(pb.GetDatasetRequest(name=name))
    expect(info.num_samples == n, f"num_samples {info.num_samples} == {n}")
    expect(info.num_chunks > 10, f"many chunks: {info.num_chunks}")
    fields = {f.name: (f.dtype, list(f.shape)) for f in info.fields}
    expect(fields["image"] == (pb.DTYPE_UINT8, [4, 4, 3]), f"image spec {fields['image']}")

    def stream(**kw):
        return list(stub.StreamBatches(pb.StreamBatchesRequest(dataset=name, **kw)))

    def verify(batch):
        ok = True
        for t in batch.tensors:
            arr = np.frombuffer(t.data, dtype=dtypes[t.dtype]).reshape(t.shape)
            want = source[t.name][np.array(batch.sample_ids, dtype=np.int64)]
            ok &= arr.shape == want.shape and np.array_equal(arr, want)
        return ok

    for world, batch_size, drop_last in ((1, 32, False), (3, 17, False), (4, 10, True), (7, 64, False)):
        seen = np.zeros(n, dtype=np.int64)
        counts = []
        all_ok = True
        for rank in range(world):
            batches = stream(batch_size=batch_size, shuffle=True, seed=99, epoch=2, rank=rank,
                             world_size=world, drop_last=drop_last)
            counts.append(len(batches))
            for i, b in enumerate(batches):
                all_ok &= b.index == i and b.epoch == 2 and verify(b)
                pad = list(b.padding) or [False] * len(b.sample_ids)
                for sid, p in zip(b.sample_ids, pad):
                    if not p:
                        seen[sid] += 1
        expect(all_ok, f"bytes equal the source files, world={world}")
        expect(len(set(counts)) == 1, f"equal batch counts on every rank: {counts}")
        if drop_last:
            per_rank = (n // world) // batch_size * batch_size
            expect(seen.max() <= 1 and seen.sum() == per_rank * world,
                   f"drop_last sends floor(floor(N/W)/B) full batches per rank, world={world}")
        else:
            expect(np.all(seen == 1), f"every sample exactly once, world={world}")

    full = stream(batch_size=25, shuffle=True, seed=5, epoch=0, rank=1, world_size=2)
    cut = len(full) // 2
    rest = stream(batch_size=25, shuffle=True, seed=5, epoch=0, rank=1, world_size=2,
                  resume_token=full[cut].resume_token)
    expect([list(b.sample_ids) for b in rest] == [list(b.sample_ids) for b in full[cut + 1:]],
           "resume continues with the next batch")
    expect(stream(batch_size=25, shuffle=True, seed=5, epoch=0, rank=1, world_size=2,
                  resume_token=full[-1].resume_token) == [], "last token resumes to empty")

    def code_of(**kw):
        try:
            stream(**kw)
            return None
        except grpc.RpcError as e:
            return e.code()

    expect(code_of(batch_size=0) == grpc.StatusCode.INVALID_ARGUMENT, "batch_size 0")
    expect(code_of(batch_size=4, rank=3, world_size=2) == grpc.StatusCode.INVALID_ARGUMENT, "rank")
    expect(code_of(batch_size=4, fields=["nope"]) == grpc.StatusCode.INVALID_ARGUMENT, "field")
    expect(code_of(batch_size=4, resume_token=b"bogus") == grpc.StatusCode.INVALID_ARGUMENT, "token")
    expect(code_of(batch_size=25, shuffle=True, seed=6, epoch=0, rank=1, world_size=2,
                   resume_token=full[1].resume_token) == grpc.StatusCode.FAILED_PRECONDITION,
           "token mismatch")
    try:
        stub.GetDataset(pb.GetDatasetRequest(name="no-such-dataset"))
        expect(False, "unknown dataset")
    except grpc.RpcError as e:
        expect(e.code() == grpc.StatusCode.NOT_FOUND, "unknown dataset NOT_FOUND")
    return checks.finish()


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(check(sys.argv[2], sys.argv[3], sys.argv[4]))
