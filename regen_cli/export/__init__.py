"""`regen export`: whole datasets of videos to latent shards, an index and statistics, and
`LatentDataset`, which reads them back for training a generator (docs/latents.md).

    sources.py      the videos to export, from files, folders and list files
    layout.py       names, keys and metadata of the export folder and of latent files (torch-free)
    stats.py        per-channel statistics from exact integer sums, normalisation (numpy)
    clips.py        one video -> its clips -> int8 latents (chunks, 2, 8, h, w)
    shards.py       the shard writer (bounded size, atomic) and what finished shards record
    run.py          one rank's export, resumable, then the merge of index and statistics
    merge.py        the index and statistics of all ranks, through torch.distributed
    dataset.py      LatentDataset and LatentWindows (torch Datasets)
    latent_file.py  one clip's latents as a `.safetensors` file (a generator's output)
"""
