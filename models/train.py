#!/usr/bin/python3
"""Trains the bundled generators on the bundled 8x8 digits and exports them to ONNX.

Models (one folder each under models/):
  digits-cgan  class-conditional DCGAN-style generator: z [B,32] float32, label [B] int64
               -> image [B,1,8,8] float32 in [-1,1] (tanh)
  digits-vae   variational autoencoder: encoder (image [B,1,8,8] in [-1,1], eps [B,16])
               -> (mu, logvar, z = mu + exp(logvar/2)*eps); decoder z [B,16] -> image in [-1,1]

Every graph is exported in eval mode with a dynamic batch dimension and without random operators:
latents and the reparameterisation noise are inputs, drawn by the server (see docs/4-synthesis.md).

Needs Debian's python3-torch and python3-onnx (apt-get install -y python3-torch python3-onnx);
CI never runs this script, it uses the committed .onnx files. Run from the repository root:
  /usr/bin/python3 models/train.py            # a few minutes on 2 cores
"""
import argparse
import hashlib
import json
import os
import struct
import time
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GAN_LATENT = 32
VAE_LATENT = 16
CLASSES = 10
BATCH = 128
RANDOM_OPS = {"RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike",
              "Multinomial", "Bernoulli", "Dropout"}


def load_digits():
    x = np.load(os.path.join(ROOT, "data", "digits", "image.npy")).astype(np.float32)
    y = np.load(os.path.join(ROOT, "data", "digits", "label.npy")).astype(np.int64)
    # Field range [0,16] -> model range [-1,1]; the descriptor maps back.
    return torch.from_numpy(x / 8.0 - 1.0).unsqueeze(1), torch.from_numpy(y)


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(CLASSES, 16)
        self.fc = nn.Sequential(nn.Linear(GAN_LATENT + 16, 64 * 2 * 2), nn.BatchNorm1d(256),
                                nn.ReLU())
        self.net = nn.Sequential(
            nn.ConvTranspose2d(64, 48, 4, 2, 1), nn.BatchNorm2d(48), nn.ReLU(),  # 4x4
            nn.ConvTranspose2d(48, 24, 4, 2, 1), nn.BatchNorm2d(24), nn.ReLU(),  # 8x8
            nn.Conv2d(24, 1, 3, 1, 1), nn.Tanh())

    def forward(self, z, label):
        h = torch.cat([z, self.embed(label)], 1)
        return self.net(self.fc(h).view(-1, 64, 2, 2))


class Discriminator(nn.Module):
    """Projection discriminator with spectral norm; it is not exported."""

    def __init__(self):
        super().__init__()
        sn = nn.utils.spectral_norm
        self.net = nn.Sequential(
            sn(nn.Conv2d(1, 16, 3, 1, 1)), nn.LeakyReLU(0.2),
            sn(nn.Conv2d(16, 32, 4, 2, 1)), nn.LeakyReLU(0.2),
            sn(nn.Conv2d(32, 64, 4, 2, 1)), nn.LeakyReLU(0.2), nn.Flatten())
        self.out = sn(nn.Linear(256, 1))
        self.embed = sn(nn.Embedding(CLASSES, 256))

    def forward(self, x, label):
        h = self.net(x)
        return self.out(h).squeeze(1) + (self.embed(label) * h).sum(1)


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 16, 3, 1, 1), nn.ReLU(),
            nn.Conv2d(16, 32, 4, 2, 1), nn.ReLU(), nn.Flatten(),
            nn.Linear(32 * 4 * 4, 256), nn.ReLU())
        self.mu = nn.Linear(256, VAE_LATENT)
        self.logvar = nn.Linear(256, VAE_LATENT)

    def forward(self, image, eps):
        h = self.net(image)
        mu, logvar = self.mu(h), self.logvar(h)
        return mu, logvar, mu + torch.exp(0.5 * logvar) * eps


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(VAE_LATENT, 256), nn.ReLU(),
                                nn.Linear(256, 32 * 4 * 4), nn.ReLU())
        self.net = nn.Sequential(nn.ConvTranspose2d(32, 16, 4, 2, 1), nn.ReLU(),
                                 nn.Conv2d(16, 1, 3, 1, 1))

    def logits(self, z):
        return self.net(self.fc(z).view(-1, 32, 4, 4))

    def forward(self, z):
        # sigmoid(l)*2-1 == tanh(l/2): the [0,1] Bernoulli mean in the [-1,1] model range.
        return torch.tanh(0.5 * self.logits(z))


def train_gan(x, y, epochs, log, mode_seeking=1.0):
    g, d = Generator(), Discriminator()
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    n = x.shape[0]
    half = BATCH // 2
    last = {}
    for epoch in range(epochs):
        perm = torch.randperm(n)
        sums = np.zeros(3)
        steps = 0
        for i in range(0, n - BATCH + 1, BATCH):
            idx = perm[i:i + BATCH]
            real, lab = x[idx], y[idx]
            z = torch.randn(BATCH, GAN_LATENT)
            # Each class label appears twice, with two latents, for the mode-seeking term.
            fake_lab = torch.randint(0, CLASSES, (half,)).repeat(2)
            fake = g(z, fake_lab)
            loss_d = (F.softplus(-d(real, lab)).mean() + F.softplus(d(fake.detach(), fake_lab)).mean())
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            adv = F.softplus(-d(fake, fake_lab)).mean()
            # Mode seeking (Mao et al., CVPR 2019): two samples of one class must differ in
            # proportion to their latents. Without it the generator ignored z within a class
            # (k-NN recall 0: samples of a class 6x closer to each other than real ones are).
            img_dist = (fake[:half] - fake[half:]).abs().mean((1, 2, 3))
            z_dist = (z[:half] - z[half:]).abs().mean(1)
            ms = 1.0 / ((img_dist / z_dist).mean() + 1e-5)
            loss_g = adv + mode_seeking * ms
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            sums += [loss_d.item(), adv.item(), ms.item()]
            steps += 1
        last = {"loss_d": sums[0] / steps, "loss_g": sums[1] / steps,
                "mode_seeking": sums[2] / steps}
        if epoch % 10 == 0 or epoch == epochs - 1:
            log(f"gan epoch {epoch}: D {last['loss_d']:.3f}  G {last['loss_g']:.3f}  "
                f"MS {last['mode_seeking']:.3f}")
    # Eval-mode BatchNorm uses running statistics; re-estimate them as a cumulative average over
    # many generated batches so eval-mode samples match what training produced.
    for m in g.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            m.reset_running_stats()
            m.momentum = None
    g.train()
    with torch.no_grad():
        for _ in range(100):
            g(torch.randn(256, GAN_LATENT), torch.randint(0, CLASSES, (256,)))
    g.eval()
    return g, last


def train_vae(x, epochs, log):
    enc, dec = Encoder(), Decoder()
    opt = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=1e-3)
    n = x.shape[0]
    target_all = (x + 1) / 2
    last = {}
    for epoch in range(epochs):
        perm = torch.randperm(n)
        sums = np.zeros(2)
        for i in range(0, n, BATCH):
            idx = perm[i:i + BATCH]
            mu, logvar, z = enc(x[idx], torch.randn(len(idx), VAE_LATENT))
            rec = F.binary_cross_entropy_with_logits(dec.logits(z), target_all[idx],
                                                     reduction="sum")
            kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
            loss = (rec + kl) / len(idx)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sums += [rec.item(), kl.item()]
        last = {"reconstruction_bce_per_sample": sums[0] / n, "kl_per_sample": sums[1] / n}
        if epoch % 10 == 0 or epoch == epochs - 1:
            log(f"vae epoch {epoch}: recon {last['reconstruction_bce_per_sample']:.2f}  "
                f"KL {last['kl_per_sample']:.2f}")
    enc.eval()
    dec.eval()
    return enc, dec, last


def export(module, args, path, inputs, outputs):
    import onnx
    dyn = {name: {0: "batch"} for name in inputs + outputs}
    torch.onnx.export(module, args, path, input_names=inputs, output_names=outputs,
                      dynamic_axes=dyn, opset_version=13, do_constant_folding=True)
    model = onnx.load(path)
    onnx.checker.check_model(model)
    bad = {n.op_type for n in model.graph.node} & RANDOM_OPS
    if bad:
        raise SystemExit(f"{path} contains random operators {bad}")
    return model


def png(path, grid):
    """Writes a grayscale uint8 image as PNG with zlib alone (no imaging library needed)."""
    h, w = grid.shape
    raw = b"".join(b"\x00" + grid[r].tobytes() for r in range(h))

    def chunk(tag, data):
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def grid_of(images, rows, cols, scale=4):
    """images: [rows*cols, 8, 8] in [0,16] -> one uint8 picture with 1-pixel gaps."""
    cell = 8 * scale + 1
    out = np.full((rows * cell + 1, cols * cell + 1), 64, np.uint8)
    for k, im in enumerate(images[:rows * cols]):
        r, c = divmod(k, cols)
        big = np.kron(np.clip(im, 0, 16) * 255.0 / 16.0, np.ones((scale, scale))).astype(np.uint8)
        out[1 + r * cell:1 + r * cell + 8 * scale, 1 + c * cell:1 + c * cell + 8 * scale] = big
    return out


def to_field(v):
    """The descriptor's mapping: [-1,1] -> [0,16], round half up, clamp, uint8."""
    return np.clip(np.floor((v + 1.0) / 2.0 * 16.0 + 0.5), 0, 16).astype(np.uint8)


def digit_classifier(x, y):
    from sklearn.linear_model import LogisticRegression
    clf = LogisticRegression(max_iter=2000)
    clf.fit(x.reshape(len(x), -1), y)
    return clf


def sha256_of(*paths):
    h = hashlib.sha256()
    for p in paths:
        with open(p, "rb") as f:
            h.update(f.read())
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--gan-epochs", type=int, default=150)
    ap.add_argument("--vae-epochs", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--mode-seeking", type=float, default=1.0,
                    help="weight of the GAN's mode-seeking term (0 turns it off)")
    ap.add_argument("--only", choices=["gan", "vae"],
                    help="train one model; the other's files and summary entry stay as they are")
    ap.add_argument("--out", default=os.path.join(ROOT, "models"))
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    # One thread: OpenMP spinning on a shared 2-core machine is slower than one core.
    torch.set_num_threads(1)
    x, y = load_digits()
    raw = np.load(os.path.join(ROOT, "data", "digits", "image.npy"))
    labels = y.numpy()
    clf = digit_classifier(raw.astype(np.float32), labels)
    logs = []

    def log(msg):
        print(msg, flush=True)
        logs.append(msg)

    summary_path = os.path.join(args.out, "training-summary.json")
    summary = {}
    if args.only and os.path.exists(summary_path):
        with open(summary_path) as f:
            summary = json.load(f)
    if args.only != "vae":
        summary["digits-cgan"] = make_gan(args, x, y, clf, log)
    if args.only != "gan":
        summary["digits-vae"] = make_vae(args, x, raw, clf, log)
    with open(summary_path, "w") as f:
        json.dump(summary, f, indent=2, sort_keys=True)
        f.write("\n")
    print(json.dumps(summary, indent=2, sort_keys=True))


def make_gan(args, x, y, clf, log):
    t0 = time.time()
    g, gan_losses = train_gan(x, y, args.gan_epochs, log, args.mode_seeking)
    gan_secs = time.time() - t0
    gan_dir = os.path.join(args.out, "digits-cgan")
    os.makedirs(gan_dir, exist_ok=True)
    export(g, (torch.randn(4, GAN_LATENT), torch.arange(4)), os.path.join(gan_dir, "model.onnx"),
           ["z", "label"], ["image"])
    with torch.no_grad():
        zs = torch.randn(1000, GAN_LATENT)
        ls = torch.arange(1000) % CLASSES
        gen = to_field(g(zs, ls).squeeze(1).numpy())
        gan_acc = float((clf.predict(gen.reshape(1000, -1).astype(np.float32)) == ls.numpy()).mean())
        grid_labels = torch.arange(100) % CLASSES
        png(os.path.join(gan_dir, "samples.png"),
            grid_of(to_field(g(torch.randn(100, GAN_LATENT), grid_labels).squeeze(1).numpy()), 10, 10))
    log(f"gan: classifier agrees with the conditioning class on {gan_acc:.3f} of 1000 samples")
    return {"epochs": args.gan_epochs, "seconds": round(gan_secs, 1), "final_losses": gan_losses,
            "conditional_accuracy": gan_acc, "mode_seeking_weight": args.mode_seeking}


def make_vae(args, x, raw, clf, log):
    t0 = time.time()
    enc, dec, vae_losses = train_vae(x, args.vae_epochs, log)
    vae_secs = time.time() - t0
    vae_dir = os.path.join(args.out, "digits-vae")
    os.makedirs(vae_dir, exist_ok=True)
    export(enc, (x[:4], torch.zeros(4, VAE_LATENT)), os.path.join(vae_dir, "encoder.onnx"),
           ["image", "eps"], ["mu", "logvar", "z"])
    export(dec, (torch.zeros(4, VAE_LATENT),), os.path.join(vae_dir, "decoder.onnx"), ["z"],
           ["image"])
    with torch.no_grad():
        gen = to_field(dec(torch.randn(1000, VAE_LATENT)).squeeze(1).numpy())
        conf = float(clf.predict_proba(gen.reshape(1000, -1).astype(np.float32)).max(1).mean())
        rec = to_field(dec(enc(x, torch.zeros(len(x), VAE_LATENT))[0]).squeeze(1).numpy())
        rec_mae = float(np.abs(rec.astype(np.float32) - raw.astype(np.float32)).mean())
        png(os.path.join(vae_dir, "samples.png"),
            grid_of(to_field(dec(torch.randn(100, VAE_LATENT)).squeeze(1).numpy()), 10, 10))
    log(f"vae: mean reconstruction error {rec_mae:.3f} (of 16); classifier confidence on prior "
        f"samples {conf:.3f}")

    return {"epochs": args.vae_epochs, "seconds": round(vae_secs, 1), "final_losses": vae_losses,
            "reconstruction_mae": rec_mae, "prior_classifier_confidence": conf}


if __name__ == "__main__":
    main()
