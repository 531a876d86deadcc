"""File pipelines: encode, decode, interpolate, extrapolate, info and verify on paths.

`inspect` (info, verify) imports no torch, so those commands start instantly.
"""
