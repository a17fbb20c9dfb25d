"""The L2L paper's own benchmarks (seed 002): quadratic functions and a small MNIST MLP, offline."""
