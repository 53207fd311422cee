"""What the Python contract clients share: the channel as the README sets it up, the dtype
table, and a tally of checks that ends in one summary line."""
import grpc
import numpy as np

from trainfeed.v1 import dataplane_pb2 as pb
from trainfeed.v1 import dataplane_pb2_grpc as rpc

DTYPES = {pb.DTYPE_UINT8: np.uint8, pb.DTYPE_INT8: np.int8, pb.DTYPE_INT32: np.int32,
          pb.DTYPE_INT64: np.int64, pb.DTYPE_FLOAT16: np.float16,
          pb.DTYPE_FLOAT32: np.float32, pb.DTYPE_FLOAT64: np.float64}


def connect(target):
    """A stub on a plaintext channel whose receive limit fits the server's batches."""
    channel = grpc.insecure_channel(
        target, options=[("grpc.max_receive_message_length", 80 * 1024 * 1024)])
    return rpc.DataPlaneStub(channel)


class Checks:
    """Counts checks, prints each failure at once and a summary at the end."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0

    def expect(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print("FAILED:", what, flush=True)

    def finish(self):
        """Prints the summary and returns the exit status."""
        print(f"{self.name}: {self.passed} checks ok, {self.failed} failed", flush=True)
        return 0 if self.failed == 0 else 1
