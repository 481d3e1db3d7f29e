"""Tensors made on the CPU must be moved to the model's device before the model sees them.

On a CUDA (or MPS) machine every notebook loads its models with ``device=ENV["device"]``, but a
tokenizer called with ``return_tensors="pt"``, a data collator and ``torch.tensor(...)`` always
make **CPU** tensors. Passing them to the model, or comparing them with the model's outputs in a
``torch`` call, raises ``RuntimeError: Expected all tensors to be on the same device`` on a GPU,
while on the CPU everything works. The CPU tests therefore never saw notebooks 02 and 03 crash.

How this test finds the pattern without a GPU: a **static data-flow check** of the notebook code
(``ast``), run over every notebook in ``notebooks/`` (future ones included) and over the helper
package. Code cells are read top to bottom as one program (a name made in one cell and used in a
later one is followed), function bodies included, and every bound name gets one of three states:

* **host**: a CPU tensor or batch: the result of a call with ``return_tensors="pt"``, of a data
  collator (an instance of a class named ``*Collator*``), of ``torch.tensor/as_tensor/from_numpy``
  or of a ``torch.*`` factory without ``device=``, of a course helper documented to return CPU
  tensors (``pretraining.nsp_probabilities``), and anything derived from one (indexing,
  attributes, methods, arithmetic, ``torch.*`` functions, comprehensions over ``.items()``);
* **device**: moved with ``.to(<device>)`` / ``.cuda()``, or an output of a model call;
* anything else (``.cpu()``, ``.numpy()``, ``.item()``, ``.tolist()``, ``int()``/``float()`` and
  unknown calls end the tracking: those are deliberate host values).

A model is a name bound from ``load_model`` / ``save_and_reload`` / ``*.from_pretrained`` (of a
non-tokenizer class) / ``*.from_config`` / ``neuron_view_model``, a ``.to(...)`` of a model, or a
name (or function parameter) that contains ``model``. Two patterns are reported (in the helper
package only the first: some helpers build CPU-only stand-ins on purpose):

1. a **host** value is passed to a model call (``model(**enc)``, ``model.bert(ids)``), or passed
   as ``**batch`` to any call;
2. a ``torch`` function (``allclose``, ``equal``, ``cat``, …) or an operator (``-``, ``==``, …)
   gets a **device** value and a non-scalar **host** value (e.g.
   ``torch.allclose(top.values, torch.tensor(scores))``, which also crashes on a GPU).

Why static rather than executing the notebooks on a fake device: CPU-only torch has no second
device with real numerics (``meta`` tensors have no values, so every numeric assert and every
``.item()`` would fail), and executing all notebooks costs many minutes; this check takes well
under a second and names the cell and line. Its limits: it follows names, not objects (a tensor
hidden in a container built by an unknown function is not followed), so it can miss cases; the GPU
mode of the notebook tests (``BERT_COURSE_REQUIRE_GPU=1``) remains the final word on a CUDA machine.
The rule set is unit-tested below on small programs that must and must not be flagged.

The fix in a notebook: ``enc = tok(..., return_tensors="pt").to(model.device)`` (a
``BatchEncoding`` has ``.to``) or ``{k: v.to(DEV) for k, v in batch.items()}`` for a plain dict,
and ``.cpu()`` on a model output before comparing it with CPU values.
"""
from __future__ import annotations

import ast
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from notebook_asserts import MAGIC  # noqa: E402  (the one magic-line rule)

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
PACKAGE = sorted((ROOT / "course_utils").glob("*.py"))

HOST, DEVICE = "host", "device"
MODEL_FACTORIES = {"load_model", "save_and_reload", "from_config", "neuron_view_model"}
NOT_MODEL_CLASSES = re.compile(r"Tokenizer|Config|Processor|FeatureExtractor|Collator|Pipeline|Dataset", re.I)
TENSOR_FACTORIES = {"tensor", "as_tensor", "from_numpy", "LongTensor", "FloatTensor", "zeros", "ones",
                    "full", "arange", "rand", "randn", "randint", "empty"}
NOT_TENSOR_ATTRS = {"shape", "dtype", "device", "ndim", "is_cuda", "requires_grad", "names", "layout"}
ENDS_TRACKING = {"cpu", "numpy", "item", "tolist", "detach_", "__len__", "size", "dim", "numel"}
MOVES = {"cuda", "to"}
CASTS = {"int", "float", "bool", "len", "str", "repr", "list", "tuple", "sorted", "print", "range", "type"}
DTYPE_HINT = re.compile(r"dtype|float|half|bfloat|int\d*|long|bool|double", re.I)
# course helpers documented to return CPU tensors (e.g. "``[n, 2]`` on the CPU")
HOST_HELPERS = {"nsp_probabilities"}
# torch functions whose tensor arguments must all share one device (0-dim host tensors excepted)
MIXING = {"allclose", "equal", "isclose", "cat", "stack", "where", "matmul", "mm", "bmm", "dot", "add", "sub",
          "mul", "div", "eq", "ne", "gt", "lt", "ge", "le", "maximum", "minimum", "assert_close", "dist",
          "cosine_similarity", "cross_entropy", "nll_loss", "mse_loss", "einsum"}


@dataclass(frozen=True)
class Finding:
    where: str      # "cell 11" or "course_utils/x.py"
    line: int       # line inside that cell / file
    code: str       # the offending line
    why: str

    def __str__(self):
        return f"{self.where}, line {self.line}: {self.why}\n      {self.code.strip()}"


def _root_name(node):
    """``a`` for ``a``, ``a.b.c``, ``a[0].b``, ``a.b(…)``; else None."""
    while True:
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, (ast.Attribute, ast.Subscript)):
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        else:
            return None


def _dotted(node) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _is_scalar_literal(node) -> bool:
    """``torch.tensor(1.0)``: a 0-dim tensor, which torch lets mix with any device."""
    return (isinstance(node, ast.Call) and _dotted(node.func) in ("torch.tensor", "torch.as_tensor")
            and node.args and isinstance(node.args[0], (ast.Constant, ast.UnaryOp)))


def _is_dtype_only_move(call: ast.Call) -> bool:
    """``x.to(torch.float32)`` / ``x.to(hidden.dtype)`` keep the device: not a move."""
    if any(k.arg == "device" for k in call.keywords):
        return False
    if not call.args:
        return any(k.arg == "dtype" for k in call.keywords)
    first = call.args[0]
    text = _dotted(first)
    return bool(text) and bool(DTYPE_HINT.search(text.rsplit(".", 1)[-1]))


class _Checker:
    """Walks statements in order and keeps the state (host / device / model) of every name."""

    def __init__(self, where_of, lines_of, mixing=True):
        self.mixing = mixing
        self.state: dict[str, str] = {}
        self.models: set[str] = set()
        self.collators: set[str] = set()
        self.modules: set[str] = {"torch", "np", "numpy", "models", "course_utils"}
        self.findings: list[Finding] = []
        self._where_of, self._lines_of = where_of, lines_of

    # -------------------------------------------------------------- classification of expressions
    def is_model(self, name) -> bool:
        return name is not None and name not in self.modules and (name in self.models or "model" in name.lower())

    def kind(self, node) -> str | None:
        """``HOST``, ``DEVICE`` or None for an expression."""
        if node is None:
            return None
        if isinstance(node, ast.Name):
            return self.state.get(node.id)
        if isinstance(node, ast.Starred):
            return self.kind(node.value)
        if isinstance(node, ast.Attribute) and node.attr in NOT_TENSOR_ATTRS:
            return None
        if isinstance(node, (ast.Attribute, ast.Subscript)):
            return self.kind(node.value)
        if isinstance(node, (ast.BinOp,)):
            kinds = {self.kind(node.left), self.kind(node.right)}
            return DEVICE if DEVICE in kinds else HOST if HOST in kinds else None
        if isinstance(node, ast.UnaryOp):
            return self.kind(node.operand)
        if isinstance(node, ast.Compare):
            kinds = {self.kind(node.left), *map(self.kind, node.comparators)}
            return DEVICE if DEVICE in kinds else HOST if HOST in kinds else None
        if isinstance(node, (ast.Tuple, ast.List)):
            kinds = set(map(self.kind, node.elts))
            return DEVICE if DEVICE in kinds else HOST if HOST in kinds else None
        if isinstance(node, ast.Dict):
            kinds = {self.kind(v) for v in node.values}
            return DEVICE if DEVICE in kinds else HOST if HOST in kinds else None
        if isinstance(node, (ast.DictComp, ast.ListComp, ast.GeneratorExp)):
            saved = dict(self.state)
            for gen in node.generators:
                self.bind(gen.target, self.kind(gen.iter))
            value = node.value if isinstance(node, ast.DictComp) else node.elt
            result = self.kind(value)
            self.state = saved
            return result
        if isinstance(node, ast.Call):
            return self.call_kind(node)
        return None

    def call_kind(self, call: ast.Call) -> str | None:
        func = call.func
        dotted = _dotted(func)
        if any(k.arg == "return_tensors" and isinstance(k.value, ast.Constant) and k.value.value == "pt"
               for k in call.keywords):
            return HOST
        if isinstance(func, ast.Name) and func.id in self.collators:
            return HOST
        if (func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)) in HOST_HELPERS:
            return HOST
        if isinstance(func, ast.Attribute):
            if func.attr in MOVES:
                if func.attr == "to" and _is_dtype_only_move(call):
                    return self.kind(func.value)
                return DEVICE
            if func.attr in ENDS_TRACKING:
                return None
            if dotted.startswith("torch."):
                if func.attr in TENSOR_FACTORIES and dotted.count(".") == 1:
                    return DEVICE if any(k.arg == "device" for k in call.keywords) else HOST
                kinds = {self.kind(a) for a in call.args} | {self.kind(k.value) for k in call.keywords}
                return DEVICE if DEVICE in kinds else HOST if HOST in kinds else None
            if self.is_model(_root_name(func)):
                return DEVICE                       # model.bert(...), model.generate(...)
            return self.kind(func.value)            # a method of a tracked value: enc.items(), x.unsqueeze(0)
        if isinstance(func, ast.Name):
            if self.is_model(func.id):
                return DEVICE                       # model(...) outputs live where the model lives
            if func.id in CASTS:
                return None
        return None

    # ------------------------------------------------------------------------- bindings
    def bind(self, target, kind):
        if isinstance(target, ast.Name):
            if kind is None:
                self.state.pop(target.id, None)
            else:
                self.state[target.id] = kind
        elif isinstance(target, (ast.Tuple, ast.List)):
            for t in target.elts:
                self.bind(t, kind)
        elif isinstance(target, ast.Starred):
            self.bind(target.value, kind)

    def note_models(self, targets, value):
        """Track which names hold models and collators."""
        if not isinstance(value, ast.Call):
            return
        func = value.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        owner = _dotted(func.value) if isinstance(func, ast.Attribute) else ""
        first = [t.elts[0] if isinstance(t, (ast.Tuple, ast.List)) and t.elts else t for t in targets]
        is_model = (name in MODEL_FACTORIES
                    or (name == "from_pretrained" and not NOT_MODEL_CLASSES.search(owner))
                    or (name == "to" and self.is_model(_root_name(func.value))))
        if "Collator" in name or "collator" in name:
            for t in targets:
                if isinstance(t, ast.Name):
                    self.collators.add(t.id)
        for t in first:
            if isinstance(t, ast.Name):
                (self.models.add if is_model else self.models.discard)(t.id)

    # ------------------------------------------------------------------------- checks
    def report(self, node, why):
        line = node.lineno
        self.findings.append(Finding(self._where_of(line), self._lines_of(line)[0], self._lines_of(line)[1], why))

    def check_call(self, call: ast.Call):
        callee = _root_name(call.func)
        to_model = isinstance(call.func, (ast.Name, ast.Attribute)) and self.is_model(callee) and not (
            isinstance(call.func, ast.Attribute) and call.func.attr in MOVES | {"set_attn_implementation", "eval",
                                                                                "train", "parameters"})
        for arg in call.args:
            if self.kind(arg) == HOST and to_model:
                self.report(call, f"CPU tensor `{ast.unparse(arg)}` passed to the model `{ast.unparse(call.func)}` "
                                  "without .to(model.device)")
        for kw in call.keywords:
            if self.kind(kw.value) != HOST:
                continue
            if kw.arg is None and not (isinstance(call.func, ast.Name) and call.func.id == "dict"):
                self.report(call, f"CPU batch `**{ast.unparse(kw.value)}` passed to `{ast.unparse(call.func)}` "
                                  "without .to(model.device)")
            elif kw.arg is not None and to_model:
                self.report(call, f"CPU tensor `{kw.arg}={ast.unparse(kw.value)}` passed to the model "
                                  f"`{ast.unparse(call.func)}` without .to(model.device)")
        dotted = _dotted(call.func)
        if self.mixing and dotted.startswith("torch.") and dotted.rsplit(".", 1)[-1] in MIXING:
            host = self.mixed_host_operand(list(call.args) + [k.value for k in call.keywords])
            if host is not None:
                self.report(call, f"`{dotted}` mixes a model output (on the model's device) with the CPU tensor "
                                  f"`{ast.unparse(host)}`: move one of them")

    def mixed_host_operand(self, operands):
        """The first CPU tensor among ``operands`` when another one is a model output, else None."""
        kinds = [self.kind(o) for o in operands]
        host = [o for o, k in zip(operands, kinds) if k == HOST and not _is_scalar_literal(o)]
        return host[0] if DEVICE in kinds and host else None

    def check_operator(self, node):
        """``device_tensor - cpu_tensor`` / ``==``: the same device error as a torch function."""
        if not self.mixing:
            return
        operands = [node.left, node.right] if isinstance(node, ast.BinOp) else [node.left, *node.comparators]
        host = self.mixed_host_operand(operands)
        if host is not None:
            self.report(node, f"`{ast.unparse(node)}` mixes a model output (on the model's device) with the CPU "
                              f"tensor `{ast.unparse(host)}`: move one of them")

    def visit_expr(self, node):
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call):
                self.check_call(sub)
            elif isinstance(sub, (ast.BinOp, ast.Compare)):
                self.check_operator(sub)

    def run(self, stmts, params=()):
        for stmt in stmts:
            self.statement(stmt)

    def statement(self, stmt):
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for alias in stmt.names:
                self.modules.add((alias.asname or alias.name).split(".")[0])
            return
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            saved = (dict(self.state), set(self.models))
            for a in stmt.args.posonlyargs + stmt.args.args + stmt.args.kwonlyargs:
                self.state.pop(a.arg, None)
                if "model" in a.arg.lower():
                    self.models.add(a.arg)
            self.run(stmt.body)
            self.state, self.models = saved[0], saved[1]
            return
        if isinstance(stmt, ast.ClassDef):
            return
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            value = stmt.value
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if value is None:
                return
            self.visit_expr(value)
            if isinstance(value, ast.Tuple) and all(isinstance(t, ast.Tuple) and len(t.elts) == len(value.elts)
                                                    for t in targets):
                for t in targets:
                    for te, ve in zip(t.elts, value.elts):
                        self.bind(te, self.kind(ve))
                return
            kind = self.kind(value)
            self.note_models(targets, value)
            for t in targets:
                if isinstance(t, (ast.Tuple, ast.List)) and isinstance(value, ast.Call) and \
                        _dotted(value.func).rsplit(".", 1)[-1] in MODEL_FACTORIES:
                    self.bind(t, None)           # (model, tokenizer) = load_model(...)
                else:
                    self.bind(t, kind)
            return
        if isinstance(stmt, (ast.For, ast.AsyncFor)):
            self.visit_expr(stmt.iter)
            self.bind(stmt.target, self.kind(stmt.iter))
            self.run(stmt.body)
            self.run(stmt.orelse)
            return
        if isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                self.visit_expr(item.context_expr)
            self.run(stmt.body)
            return
        if isinstance(stmt, (ast.If, ast.While)):
            self.visit_expr(stmt.test)
            self.run(stmt.body)
            self.run(stmt.orelse)
            return
        if isinstance(stmt, ast.Try):
            for block in (stmt.body, *[h.body for h in stmt.handlers], stmt.orelse, stmt.finalbody):
                self.run(block)
            return
        for child in ast.iter_child_nodes(stmt):
            if isinstance(child, ast.expr):
                self.visit_expr(child)




def check_program(cells: list[tuple[str, str]], mixing: bool = True) -> list[Finding]:
    """Check code cells ``[(label, source)]`` as one program, in order (``mixing``: rule 2 too)."""
    lines, owners = [], []
    for label, source in cells:
        for i, line in enumerate(source.splitlines(), start=1):
            lines.append("pass" if MAGIC.match(line) else line)
            owners.append((label, i, line))
        lines.append("")
        owners.append((label, 0, ""))
    # parse cell by cell so that one cell with a syntax error cannot hide the others
    checker = _Checker(lambda n: owners[n - 1][0], lambda n: owners[n - 1][1:], mixing)
    start = 0
    for label, source in cells:
        n = len(source.splitlines()) + 1
        chunk = "\n" * start + "\n".join(lines[start:start + n])
        try:
            tree = ast.parse(chunk)
        except SyntaxError as err:
            raise AssertionError(f"{label}: cannot parse the code ({err})") from err
        checker.run(tree.body)
        start += n
    return checker.findings


def notebook_findings(path: Path) -> list[Finding]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            cells.append((f"{path.name} cell {i} (id {cell.get('id')})", src))
    return check_program(cells)


# ------------------------------------------------------------------------------------ the checks

@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_moves_cpu_tensors_to_the_model_device(path):
    findings = notebook_findings(path)
    assert not findings, (f"{path.name}: these cells would crash on a GPU (CPU tensors meet a model on "
                          "the GPU):\n  " + "\n  ".join(map(str, findings)))


@pytest.mark.parametrize("path", PACKAGE, ids=lambda p: p.name)
def test_helper_moves_cpu_tensors_to_the_model_device(path):
    # rule 1 only: helpers take any model, and some build CPU-only stand-ins on purpose (models.py)
    findings = check_program([(f"course_utils/{path.name}", path.read_text(encoding="utf-8"))], mixing=False)
    assert not findings, "\n  ".join(map(str, findings))


def test_every_notebook_is_checked():
    assert len(NOTEBOOKS) >= 10 and all(p.name[:2].isdigit() for p in NOTEBOOKS)


# ------------------------------------------------------------------- the rules, on small programs

FLAGGED = {
    "kwargs batch": 'enc = tok("x", return_tensors="pt")\nout = model(**enc)',
    "across cells": ['enc = tok("x", return_tensors="pt")', 'with torch.no_grad():\n    out = nsp(**enc)'],
    "from load_model": 'nsp, tok = models.load_model("m", "nsp", device=DEV)\n'
                       'enc = tok("a", "b", return_tensors="pt")\nlogits = nsp(**enc).logits',
    "positional ids": 'ids = tok("x", return_tensors="pt")["input_ids"]\nmodel(ids)',
    "keyword ids": 'enc = tok("x", return_tensors="pt")\nmodel(input_ids=enc["input_ids"])',
    "inline": 'model(**tok("x", return_tensors="pt"))',
    "torch.tensor": 'model(input_ids=torch.tensor([[101, 102]]))',
    "submodule": 'b = tok(["x"], return_tensors="pt")\npooled = model.bert(**b).pooler_output',
    "collator": 'col = DataCollatorForLanguageModeling(tok)\nbatch = col(feats)\nout = mlm_model(**batch)',
    "dict copy": 'enc = tok("x", return_tensors="pt")\nb = {k: v for k, v in enc.items()}\nm = load_model("x")\nm(**b)',
    "dtype cast is no move": 'enc = tok("x", return_tensors="pt")\nmask = enc["attention_mask"].to(torch.float32)\n'
                             'model(attention_mask=mask)',
    "mixing": 'enc = tok("x", return_tensors="pt").to(DEV)\nlogits = model(**enc).logits\n'
              'top = torch.topk(torch.softmax(logits[0], -1), 5)\nassert torch.allclose(top.values, torch.tensor(s))',
    "operator": 'out = model(**tok("x", return_tensors="pt").to(DEV))\nd = out.logits - torch.tensor([[0.5, 0.5]])',
    "cpu helper": 'p = pretraining.nsp_probabilities(nsp_model, tok, a, b)\nenc = tok(a, b, return_tensors="pt").to(DEV)\n'
                  'assert torch.allclose(torch.softmax(nsp_model(**enc).logits, -1), p)',
    "in a function": 'def f(text):\n    enc = tokenizer(text, return_tensors="pt")\n    return model2(**enc)',
}
CLEAN = {
    "moved batch": 'enc = tok("x", return_tensors="pt").to(DEV)\nout = model(**enc)',
    "moved later": 'enc = tok("x", return_tensors="pt")\nenc = enc.to(model.device)\nout = model(**enc)',
    "dict moved": 'b = col(f)\nb = {k: v.to(DEV) for k, v in b.items()}\nout = mlm_model(**b)',
    "cuda": 'ids = torch.tensor([[1]]).cuda()\nmodel(ids)',
    "device kwarg": 'model(input_ids=torch.tensor([[1]], device=DEV))',
    "pipeline": 'fill = pipeline("fill-mask", model=mlm_model, tokenizer=tok)\nfill("a [MASK]")',
    "helper": 'enc = tok("x", return_tensors="pt")\nprint(tok.convert_ids_to_tokens(enc["input_ids"][0]))',
    "cpu model": 'ids = batch["input_ids"].cpu()\nnv_model(ids)',
    "scalar literal": 'out = model(**tok("x", return_tensors="pt").to(DEV))\n'
                      'assert torch.allclose(out.logits.sum(), torch.tensor(1.0))',
    "compared on cpu": 'enc = tok("x", return_tensors="pt").to(DEV)\nlogits = model(**enc).logits.cpu()\n'
                       'assert torch.allclose(logits[0], torch.tensor(s))',
    "rebound": 'enc = tok("x", return_tensors="pt")\nenc = tok("x", return_tensors="pt").to(DEV)\nmodel(**enc)',
    "shape": 'enc = tok("x", return_tensors="pt").to(DEV)\nlogits = model(**enc).logits\n'
             'assert logits.shape == (1, torch.tensor([[1, 2]]).shape[1], 5)',
    "magic": '%timeit model(**tok("x", return_tensors="pt"))',
}


@pytest.mark.parametrize("name", FLAGGED)
def test_rule_flags(name):
    src = FLAGGED[name]
    cells = [(f"cell {i}", s) for i, s in enumerate(src if isinstance(src, list) else [src])]
    assert check_program(cells), f"{name}: not flagged"


@pytest.mark.parametrize("name", CLEAN)
def test_rule_passes(name):
    assert check_program([("cell 0", CLEAN[name])]) == [], name


def test_finding_names_cell_and_line():
    found = check_program([("02.ipynb cell 3", "x = 1"),
                           ("02.ipynb cell 4", 'enc = tok("x", return_tensors="pt")\n\nout = mlm_model(**enc)')])
    assert [(f.where, f.line) for f in found] == [("02.ipynb cell 4", 3)]
    assert "mlm_model(**enc)" in str(found[0])
