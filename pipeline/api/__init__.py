"""Use what the pipeline learned in any PyTorch training loop: a learned loss, AdaLFL, a learned update rule.

    from pipeline.api import AdaLFL, LearnedLoss, LearnedOptimizer

    loss = LearnedLoss.load("loss.pt")              # exported by `python -m tools.lfl export ...`
    loss(model(x), y).backward()                    # like nn.CrossEntropyLoss: mean over the batch

    adalfl = AdaLFL(model, loss, lr=0.01, meta_lr=1e-5)
    for (x, y), (x_valid, y_valid) in zip(train_batches, valid_batches):
        base_loss, meta_loss = adalfl.step(x, y, x_valid, y_valid)   # base step, then the online meta step

    optimizer = LearnedOptimizer.load("rule.pt", model.named_parameters())   # Meta-LR, Meta-SGD, ...
    optimizer.zero_grad(); criterion(model(x), y).backward(); optimizer.step()

A file holds only tensors and plain data (read with ``torch.load(weights_only=True)``): the
learned weights, the representation's config, what it needs to be rebuilt, the format version
and where it came from (pair, method, seed, commit, params digest).
"""

from pipeline.api.adalfl import AdaLFL
from pipeline.api.files import VERSION, LossFileError
from pipeline.api.loss import LearnedLoss
from pipeline.api.optimizer import LearnedOptimizer

__all__ = ["VERSION", "AdaLFL", "LearnedLoss", "LearnedOptimizer", "LossFileError"]
