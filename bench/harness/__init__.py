"""The harness: cases and how their options are layered, the run loop, the timing core, the CUDA
clock cross-check, thread limits, roofline peaks, peak memory and the machine record."""
