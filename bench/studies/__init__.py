"""Studies beyond one run: the optimizer sweep, conditioning, scaling over n and d, and streaming
fits of data larger than memory."""
