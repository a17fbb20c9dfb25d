"""The model's forward pass split into a primal graph and a tangent-only graph (issue 7).

``torch.func.jvp`` pushes a tangent through the model by running the forward pass again
beside it, so u = J_f(theta, x) v costs one more forward pass than the tangent work
itself. The base step has already run that forward pass, at the same theta on the same
batch. So, once per model and input signature, we trace the joint primal-and-tangent
aten graph of the model under forward-mode AD (``make_fx`` on fake tensors, as
``torch.func.linearize`` does) and cut it in two:

* the primal graph ``(*params, *buffers, x) -> (f_theta(x), saved)`` is the base step's
  forward pass: autograd flows through it, BatchNorm updates its running statistics
  once, dropout draws its masks from the global generator exactly as the eager module does;
* the tangent graph ``(*saved, *v) -> u`` reads only the intermediates the primal graph
  saved (activations, BatchNorm statistics, dropout masks), so it costs the tangent work alone.

A fold removes the tangent terms of the input batch, which has no tangent (forward-mode
AD materialises them as zeros, a wasted convolution of the first layer); merging duplicated
pointwise terms and recomputing cheap ones in the tangent graph keep no more alive between
the two passes than eager autograd keeps for its backward. Models the tracer cannot handle
(data-dependent Python control flow, values written in place after the tangent reads them)
fall back to ``torch.func.jvp``.
"""

from __future__ import annotations

import warnings
import weakref
from dataclasses import dataclass
from typing import Any

import torch
import torch.autograd.forward_ad as fwAD
from torch import fx, nn
from torch.func import functional_call
from torch.fx.experimental.proxy_tensor import make_fx

from pipeline.optim import Params

aten = torch.ops.aten
ZERO_SOURCES = {aten.zeros.default, aten.zeros_like.default, aten.new_zeros.default, aten._efficientzerotensor.default}
ZERO_IF_FIRST_IS = {
    aten.expand.default,
    aten.view.default,
    aten._unsafe_view.default,
    aten.reshape.default,
    aten.alias.default,
    aten.t.default,
    aten.permute.default,
    aten.clone.default,
}
ZERO_IF_ANY_IS = {aten.mm.default, aten.bmm.default}
# pure pointwise ops: recomputing one in the tangent graph gives the same bits as the primal graph's
RECOMPUTABLE = {
    aten.sub.Tensor,
    aten.add.Tensor,
    aten.mul.Tensor,
    aten.div.Tensor,
    aten.neg.default,
    aten.rsqrt.default,
    aten.relu.default,
    aten.unsqueeze.default,
    aten.squeeze.dims,
    aten.view.default,
    aten.expand.default,
}
VIEWS = {
    aten.view.default,
    aten._unsafe_view.default,
    aten.expand.default,
    aten.alias.default,
    aten.t.default,
    aten.transpose.int,
    aten.permute.default,
    aten.unsqueeze.default,
    aten.squeeze.dims,
    aten.squeeze.dim,
    aten.slice.Tensor,
    aten.select.int,
    aten.as_strided.default,
    aten.reshape.default,
}


@dataclass(frozen=True)
class SplitForward:
    """A traced model: the primal graph and the tangent graph, with the argument order they expect."""

    primal: fx.GraphModule
    tangent: fx.GraphModule
    param_names: tuple[str, ...]
    buffer_names: tuple[str, ...]

    def forward(
        self, params: Params, buffers: Params, x: torch.Tensor
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """f_theta(x) (differentiable in ``params``; updates ``buffers`` in place) and what the tangent needs."""
        outputs, saved = self.primal(
            *(params[k] for k in self.param_names), *(buffers[k] for k in self.buffer_names), x
        )
        return outputs, tuple(saved)

    def jvp(self, saved: tuple[torch.Tensor, ...], tangents: Params) -> torch.Tensor:
        """u = J_f(theta, x) v at the theta and x that produced ``saved``."""
        with torch.no_grad():
            return self.tangent(*(t.detach() for t in saved), *(tangents[k] for k in self.param_names))


_CACHE: weakref.WeakKeyDictionary[nn.Module, dict[tuple[Any, ...], SplitForward | None]] = weakref.WeakKeyDictionary()


def split_forward(model: nn.Module, params: Params, buffers: Params, x: torch.Tensor) -> SplitForward | None:
    """The model's split forward for this input signature (traced on first use), or None if it cannot be traced."""
    key = _signature(model, params, buffers, x)
    traced = _CACHE.setdefault(model, {})
    if key not in traced:
        try:
            traced[key] = trace_split(model, params, buffers, x)
        except Exception as error:  # noqa: BLE001 - any tracing failure means: use torch.func.jvp instead
            warnings.warn(
                f"{type(model).__name__} cannot be traced for the tangent-only JVP ({type(error).__name__}: "
                f"{str(error).splitlines()[0] if str(error) else ''}); using torch.func.jvp",
                RuntimeWarning,
                stacklevel=2,
            )
            traced[key] = None
    return traced[key]


def _signature(model: nn.Module, params: Params, buffers: Params, x: torch.Tensor) -> tuple[Any, ...]:
    describe = lambda ts: tuple((k, tuple(t.shape), t.dtype, t.device) for k, t in ts.items())  # noqa: E731
    modes = tuple(m.training for m in model.modules())
    return describe(params), describe(buffers), tuple(x.shape), x.dtype, x.device, modes


def trace_split(model: nn.Module, params: Params, buffers: Params, x: torch.Tensor) -> SplitForward:
    """Trace the joint graph on fake tensors (no computation, no random draws) and split it."""
    param_names, buffer_names = tuple(params), tuple(buffers)

    def joint(
        p: list[torch.Tensor], b: list[torch.Tensor], inputs: torch.Tensor, t: list[torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        with fwAD.dual_level():
            duals = {k: fwAD.make_dual(value, tangent) for k, value, tangent in zip(param_names, p, t)}
            primal, tangent = fwAD.unpack_dual(functional_call(model, (duals, dict(zip(buffer_names, b))), (inputs,)))
        return primal, tangent

    def sample(tensors: Params) -> list[torch.Tensor]:
        return [t.detach().clone() for t in tensors.values()]

    with warnings.catch_warnings():  # the first trace loads decompositions through the deprecated torch.jit.script
        warnings.filterwarnings("ignore", message=".*torch.jit.script.* is deprecated", category=FutureWarning)
        traced = make_fx(joint, tracing_mode="fake")(sample(params), sample(buffers), x.detach(), sample(params))
    graph = traced.graph
    fold_zero_tangents(graph)
    merge_duplicates(graph)
    placeholders = [n for n in graph.nodes if n.op == "placeholder"]
    tangent_inputs = placeholders[len(param_names) + len(buffer_names) + 1 :]
    primal, tangent = _cut(traced, tangent_inputs)
    return SplitForward(primal, tangent, param_names, buffer_names)


def fold_zero_tangents(graph: fx.Graph) -> None:
    """Drop additions of tensors that are zero by construction (the input's missing tangent).

    Only ``a + z -> a`` rewrites happen, where z comes from a zeros op through ops that are
    linear in it; the zeros and the work on them then have no user and are removed.
    """
    zeros: set[fx.Node] = set()
    for node in list(graph.nodes):
        if node.op != "call_function":
            continue
        if _is_zero(node, zeros):
            zeros.add(node)
        elif node.target == aten.add.Tensor and len(node.args) == 2 and not node.kwargs:
            left, right = node.args
            kept = right if left in zeros else left if right in zeros else None
            if isinstance(kept, fx.Node):
                _replace_sum(graph, node, kept)
    graph.eliminate_dead_code()


def _replace_sum(graph: fx.Graph, node: fx.Node, kept: fx.Node) -> None:
    """node = kept + zero: use kept, broadcast to node's shape where the zero set the shape."""
    kept_val, sum_val = kept.meta.get("val"), node.meta.get("val")
    if (
        not (isinstance(kept_val, torch.Tensor) and isinstance(sum_val, torch.Tensor))
        or kept_val.dtype != sum_val.dtype
    ):
        return
    if kept_val.shape != sum_val.shape:
        with graph.inserting_before(node):
            expanded = graph.call_function(aten.expand.default, (kept, list(sum_val.shape)))
        expanded.meta["val"] = sum_val
        kept = expanded
    node.replace_all_uses_with(kept)


def merge_duplicates(graph: fx.Graph) -> None:
    """Common-subexpression elimination over pure pointwise and view ops.

    The forward-mode formulas recompute shared pieces (BatchNorm's centred input appears
    three times per layer); merged, the tangent graph keeps one copy alive instead of three.
    """
    seen: dict[tuple[Any, ...], fx.Node] = {}
    for node in list(graph.nodes):
        if (
            node.op != "call_function"
            or node.target not in RECOMPUTABLE | {aten.alias.default, aten.t.default}
            or _written(node)
        ):
            continue
        key = (node.target, _hashable(node.args), _hashable(node.kwargs))
        if key in seen:
            node.replace_all_uses_with(seen[key])
            graph.erase_node(node)
        else:
            seen[key] = node


def _hashable(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_hashable(v) for v in value))
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value


def _is_zero(node: fx.Node, zeros: set[fx.Node]) -> bool:
    args = node.args
    if node.target in ZERO_SOURCES:
        return True
    if node.target in ZERO_IF_FIRST_IS:
        return args[0] in zeros
    if node.target in ZERO_IF_ANY_IS:
        return any(a in zeros for a in args[:2])
    if node.target == aten.convolution.default:  # linear in input and weight when there is no bias
        return args[2] is None and (args[0] in zeros or args[1] in zeros)
    return False


def _cut(traced: fx.GraphModule, tangent_inputs: list[fx.Node]) -> tuple[fx.GraphModule, fx.GraphModule]:
    """Nodes that depend on a tangent go to the tangent graph, the rest to the primal graph.

    Cheap pointwise primal values the tangent needs (BatchNorm's x_hat, say) are recomputed
    in the tangent graph from smaller saved inputs instead of being kept alive from the
    base step to the meta step.
    """
    graph = traced.graph
    output = next(n for n in graph.nodes if n.op == "output")
    primal_out, tangent_out = output.args[0]
    on_tangent: set[fx.Node] = set(tangent_inputs)
    for node in graph.nodes:
        if node.op == "call_function" and any(a in on_tangent for a in node.all_input_nodes):
            on_tangent.add(node)
    tangent_side = on_tangent | _recomputable(graph, on_tangent)
    saved = _inputs_from_outside(graph, tangent_side)
    _check_reads_are_final(graph, tangent_side, saved)
    if tangent_out not in tangent_side:  # an output with no tangent dependence: pass it through
        saved[tangent_out] = None
    primal = _subgraph(
        graph,
        lambda n: n not in on_tangent and n.op != "output",
        [],
        lambda env: (env[primal_out], tuple(env[s] for s in saved)),
    )
    tangent = _subgraph(
        graph,
        lambda n: n in tangent_side and n.op == "call_function",
        list(saved) + tangent_inputs,
        lambda env: env[tangent_out],
    )
    return fx.GraphModule(traced, primal), fx.GraphModule(traced, tangent)  # traced holds any constants


def _inputs_from_outside(graph: fx.Graph, inside: set[fx.Node]) -> dict[fx.Node, None]:
    """The values computed outside ``inside`` that its operations read, in graph order."""
    outside: dict[fx.Node, None] = {}
    for node in graph.nodes:
        if node in inside and node.op == "call_function":
            outside.update((a, None) for a in node.all_input_nodes if a not in inside)
    return outside


def _recomputable(graph: fx.Graph, on_tangent: set[fx.Node]) -> set[fx.Node]:
    """Primal pointwise values cheaper to recompute in the tangent graph than to keep (greedy, to a fixed point)."""
    moved: set[fx.Node] = set()
    changed = True
    while changed:
        changed = False
        saved = _inputs_from_outside(graph, on_tangent | moved)
        for node in saved:
            if node.op == "call_function" and node.target in RECOMPUTABLE and not _written(node):
                extra = [a for a in node.all_input_nodes if a not in saved and a not in moved]
                if sum(_nbytes(a) for a in extra) < _nbytes(node):
                    moved.add(node)
                    changed = True
    return moved


def _check_reads_are_final(graph: fx.Graph, tangent_side: set[fx.Node], saved: dict[fx.Node, None]) -> None:
    """The tangent graph runs after the whole primal graph, so nothing it reads may be written after its first read."""
    order = {node: i for i, node in enumerate(graph.nodes)}
    for value in saved:
        reads = [order[u] for u in value.users if u in tangent_side]
        for alias in _aliases(value):
            late = [u for u in alias.users if _mutates(u) and u not in tangent_side and reads and order[u] > min(reads)]
            if late:
                raise ValueError(f"{late[0].target} writes {value.name} in place after the tangent reads it")


def _aliases(node: fx.Node) -> list[fx.Node]:
    """Every node sharing node's storage: its base (through view ops) and all views of that base."""
    while node.op == "call_function" and node.target in VIEWS and isinstance(node.args[0], fx.Node):
        node = node.args[0]
    found, stack = [], [node]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(
            u
            for u in current.users
            if u.op == "call_function" and u.target in VIEWS and u.args and u.args[0] is current
        )
    return found


def _mutates(node: fx.Node) -> bool:
    return (
        node.op == "call_function" and isinstance(node.target, torch._ops.OpOverload) and node.target._schema.is_mutable
    )


def _written(node: fx.Node) -> bool:
    """Whether an in-place op writes node or one of its views (such a value is neither merged nor recomputed)."""
    return any(_mutates(u) for alias in _aliases(node) for u in alias.users)


def _nbytes(node: fx.Node) -> int:
    value = node.meta.get("val")
    return value.numel() * value.element_size() if isinstance(value, torch.Tensor) else 0


def _subgraph(graph: fx.Graph, keep: Any, inputs: list[fx.Node], result: Any) -> fx.Graph:
    new = fx.Graph()
    env: dict[fx.Node, fx.Node] = {node: new.placeholder(f"in_{i}") for i, node in enumerate(inputs)}
    for node in graph.nodes:
        if keep(node):
            env[node] = new.node_copy(node, lambda a: env[a])
    new.output(result(env))
    new.eliminate_dead_code()  # in-place updates of running statistics are impure and stay
    return new
