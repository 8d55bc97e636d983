"""Model-code helpers every design shares: the strict CLI parser, progress bars and distributed training."""
