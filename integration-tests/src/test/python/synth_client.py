#!/usr/bin/python3
"""A Python client of the synthesis part of the wire contract, used by SynthesisPythonIT.

  synth_client.py TARGET DATASET     lists models, synthesizes with several seeds and batch
                                     sizes, checks determinism, resume and mixing flags

It imports stubs generated from proto/ with Debian's protoc and grpc_python_plugin (PYTHONPATH).
Prints one line per failed check and ends with "synth client: N checks ok, M failed".
"""
import sys

import numpy as np


def main(target, dataset):
    import grpc
    from trainfeed.v1 import dataplane_pb2 as pb

    from contract_checks import Checks, connect

    stub = connect(target)
    checks = Checks("synth client")
    expect = checks.expect

    models = {m.name: m for m in stub.ListModels(pb.ListModelsRequest()).models}
    expect(set(models) >= {"digits-cgan", "digits-vae"}, f"models listed: {sorted(models)}")
    gan = models["digits-cgan"]
    expect(gan.kind == "gan" and gan.conditional and gan.latent_dim == 32, f"gan info {gan}")
    expect(gan.provider == "cpu", f"provider {gan.provider}")
    expect(len(gan.version) == 64, "version is a SHA-256")
    outs = {f.name: (f.dtype, list(f.shape)) for f in gan.outputs}
    expect(outs == {"image": (pb.DTYPE_UINT8, [8, 8]), "label": (pb.DTYPE_INT64, [])},
           f"gan outputs {outs}")

    def synth(model, **kw):
        return list(stub.Synthesize(pb.SynthesizeRequest(model=model, **kw)))

    def images(batches):
        out = []
        for b in batches:
            t = next(t for t in b.tensors if t.name == "image")
            out.append(np.frombuffer(t.data, dtype=np.uint8).reshape(t.shape))
        return np.concatenate(out)

    for model in ("digits-cgan", "digits-vae"):
        by_seed = {}
        for seed in (0, 1, 2**63 + 5):
            ref = images(synth(model, count=40, batch_size=16, seed=seed))
            expect(ref.shape == (40, 8, 8) and ref.max() <= 16, f"{model} shape/range {ref.shape}")
            for bs in (1, 7, 40, 64):
                again = images(synth(model, count=40, batch_size=bs, seed=seed))
                expect(np.array_equal(again, ref), f"{model} seed {seed} batch {bs} same bytes")
            by_seed[seed] = ref
        expect(not np.array_equal(by_seed[0], by_seed[1]), f"{model} seeds differ")

    full = synth("digits-cgan", count=30, batch_size=8, seed=9, class_label=4)
    labels = np.concatenate([np.frombuffer(next(t for t in b.tensors if t.name == "label").data,
                                           dtype=np.int64) for b in full])
    expect((labels == 4).all(), "class_label fixes every label")
    expect(all(all(b.synthetic) and len(b.synthetic) == len(b.sample_ids) for b in full),
           "every Synthesize sample is flagged synthetic")
    expect([i for b in full for i in b.sample_ids] == list(range(30)), "sample_ids are indices")
    rest = synth("digits-cgan", count=30, batch_size=8, seed=9, class_label=4,
                 resume_token=full[1].resume_token)
    expect(np.array_equal(images(rest), images(full[2:])), "resume continues exactly")
    expect(synth("digits-cgan", count=30, batch_size=8, seed=9, class_label=4,
                 resume_token=full[-1].resume_token) == [], "last token resumes to nothing")

    def code_of(fn):
        try:
            fn()
        except grpc.RpcError as e:
            return e.code()
        return None

    expect(code_of(lambda: synth("digits-cgan", count=0, batch_size=8))
           == grpc.StatusCode.INVALID_ARGUMENT, "count 0")
    expect(code_of(lambda: synth("digits-cgan", count=5, batch_size=0))
           == grpc.StatusCode.INVALID_ARGUMENT, "batch_size 0")
    expect(code_of(lambda: synth("nope", count=5, batch_size=2))
           == grpc.StatusCode.NOT_FOUND, "unknown model")
    expect(code_of(lambda: synth("digits-vae", count=5, batch_size=2, class_label=1))
           == grpc.StatusCode.INVALID_ARGUMENT, "class_label on an unconditional model")
    expect(code_of(lambda: synth("digits-cgan", count=5, batch_size=2, seed=1,
                                 resume_token=full[1].resume_token))
           == grpc.StatusCode.FAILED_PRECONDITION, "token of another seed")

    info = stub.GetDataset(pb.GetDatasetRequest(name=dataset))
    n = info.num_samples
    mix = pb.SyntheticMix(model="digits-cgan", fraction=0.25)
    seen = np.zeros(n, dtype=np.int64)
    for rank in (0, 1):
        batches = list(stub.StreamBatches(pb.StreamBatchesRequest(
            dataset=dataset, batch_size=16, shuffle=True, seed=3, epoch=0, rank=rank,
            world_size=2, synthetic=mix)))
        synthetic_index = 0
        for b in batches:
            flags = list(b.synthetic)
            expect(flags == [False] * (len(b.sample_ids) - 4) + [True] * 4,
                   f"rank {rank} batch {b.index}: 4 synthetic samples last")
            for i, sid in enumerate(b.sample_ids):
                if flags[i]:
                    expect(sid == n + synthetic_index, "synthetic ids are N + i")
                    synthetic_index += 1
                elif not (len(b.padding) and b.padding[i]):
                    seen[sid] += 1
            for t in b.tensors:
                expect(t.shape[0] == len(b.sample_ids), "tensors hold every sample")
        again = list(stub.StreamBatches(pb.StreamBatchesRequest(
            dataset=dataset, batch_size=16, shuffle=True, seed=3, epoch=0, rank=rank,
            world_size=2, synthetic=mix, resume_token=batches[3].resume_token)))
        expect([b.SerializeToString() for b in again]
               == [b.SerializeToString() for b in batches[4:]], "mixed stream resumes exactly")
    expect((seen == 1).all(), f"every real sample exactly once: {np.bincount(seen)}")
    expect(code_of(lambda: list(stub.StreamBatches(pb.StreamBatchesRequest(
        dataset=dataset, batch_size=16, synthetic=pb.SyntheticMix(model="digits-vae",
                                                                   fraction=0.25)))))
           == grpc.StatusCode.INVALID_ARGUMENT, "vae yields no label: INVALID_ARGUMENT")
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
