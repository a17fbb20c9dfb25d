"""Loss-function learning pipeline: prepare -> init_loss -> train -> evaluate -> report."""
