"""Measuring quality: PSNR/SSIM, rFVD, and `regen eval`'s encode-decode protocol."""
