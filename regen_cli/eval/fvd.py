"""rFVD: Fréchet distance between I3D features of source and reconstructed clips.

The I3D network is the standard TorchScript file users already have (for example the
`i3d_torchscript.pt` used by StyleGAN-V and many video-tokenizer papers); regen never
downloads it. It is called as `detector(videos, rescale=False, resize=True,
return_features=True)` on float videos (N, 3, T, H, W) in [-1, 1], returning (N, 400)
features. Does not import `models`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to feature rows a (N, D) and b (M, D):
    |mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a^1/2 S_b S_a^1/2)^1/2), in float64."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    vals, vecs = np.linalg.eigh(s_a)
    root_a = (vecs * np.sqrt(np.clip(vals, 0, None))) @ vecs.T
    middle = root_a @ s_b @ root_a
    cross = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)).sum()
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2 * cross)


class I3DFeatures:
    def __init__(self, path: Path, device: torch.device) -> None:
        self.detector = torch.jit.load(str(path), map_location=device).eval()
        self.device = device

    @torch.inference_mode()
    def __call__(self, clips: torch.Tensor) -> np.ndarray:
        """(N, 3, T, H, W) in [-1, 1] -> (N, D) float64 features."""
        feats = self.detector(clips.to(self.device), rescale=False, resize=True, return_features=True)
        return feats.double().cpu().numpy()
