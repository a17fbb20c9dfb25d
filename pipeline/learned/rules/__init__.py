"""Update rules: one class per kind behind one protocol (``base.UpdateRule``), built by ``registry``."""

from pipeline.learned.rules.base import ForwardMetaContext, RuleSetup, RuleState, UpdateRule
from pipeline.learned.rules.hand_designed import HandDesignedRule
from pipeline.learned.rules.learned_lr import LearnedLRRule
from pipeline.learned.rules.linear_update import LinearUpdateRule
from pipeline.learned.rules.loss_rule import LossRule
from pipeline.learned.rules.recurrent import RecurrentUpdateRule
from pipeline.learned.rules.registry import (
    RULE_BUILDERS,
    build_init_rule,
    build_loss,
    build_rule,
    make_rule,
    taylor_scale,
)

__all__ = [
    "RULE_BUILDERS",
    "ForwardMetaContext",
    "HandDesignedRule",
    "LearnedLRRule",
    "LinearUpdateRule",
    "LossRule",
    "RecurrentUpdateRule",
    "RuleSetup",
    "RuleState",
    "UpdateRule",
    "build_init_rule",
    "build_loss",
    "build_rule",
    "make_rule",
    "taylor_scale",
]
