"""Find notebook asserts that cannot fail (issue 12 §3): ``python tools/notebook_asserts.py [notebooks...]``.

nbval runs the notebooks with ``--nbval-lax``, so the checks live in ``assert`` statements; an assert
that holds whatever the model does proves nothing. :func:`why_tautology` recognises, on the AST:

* a constant, or a tuple (``assert (x, "message")`` is always true);
* the same expression on both sides (``x == x``, ``np.allclose(a, a)``);
* an interval that contains all of [0, 1] (``0 <= acc <= 1``: any accuracy or probability passes);
* ``x >= 0`` (any probability, count or length passes);
* a sum compared with 1 (``abs(p.sum() - 1) < eps``, ``np.allclose(A.sum(-1), 1)``,
  ``sum(scores) <= 1 + 1e-6``: a softmax always sums to 1).

It does not judge meaning (``len`` of a table the cell just built needs a reader); tests use
:func:`notebook_asserts` to count the asserts that can fail.
"""
from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path
from typing import Optional

# an IPython magic or shell line (%…, !…): not Python. The one rule, also for notebook_code.py and
# tests/test_notebook_devices.py.
MAGIC = re.compile(r"^\s*[%!]")


def _const(node):
    """The number a node stands for (1, 1.0, 1 + 1e-6, -0.0, torch.tensor(1.0)), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _const(node.operand)
        return None if v is None else (-v if isinstance(node.op, ast.USub) else v)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        a, b = _const(node.left), _const(node.right)
        if a is not None and b is not None:
            return a + b if isinstance(node.op, ast.Add) else a - b
    if isinstance(node, ast.Call) and node.args and _name(node.func) in ("tensor", "float", "array", "asarray"):
        return _const(node.args[0])
    return None


def _name(func):
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _is_sum(node):
    return isinstance(node, ast.Call) and _name(node.func) in ("sum", "fsum")


def _near_one(v, tol=1e-3):
    return v is not None and abs(v - 1) <= tol


def why_tautology(test: ast.expr) -> Optional[str]:
    """Why this assert condition cannot fail, or None. Catches: a constant; the same expression on both
    sides; an interval containing all of [0, 1] (a probability, an accuracy); a bare ``>= 0`` on a
    probability-like value; "sums to 1" (a softmax, a normalised histogram)."""
    for node in ast.walk(test):
        if node is test and isinstance(node, ast.Constant):
            return "a constant"
        if node is test and isinstance(node, ast.Tuple):
            return "a tuple is always true (write `assert cond, message`)"
        if isinstance(node, ast.Compare):
            items = [node.left] + node.comparators
            dumps = [ast.dump(x) for x in items]
            for op, a, b, da, db in zip(node.ops, items, items[1:], dumps, dumps[1:]):
                if da == db and isinstance(op, (ast.Eq, ast.Is, ast.LtE, ast.GtE)):
                    return "the same expression on both sides"
                # "sum(...) == 1", "x.sum() <= 1 + eps", "abs(x.sum() - 1) < eps"
                if (_is_sum(a) and _near_one(_const(b))) or (_is_sum(b) and _near_one(_const(a))):
                    return "a sum compared with 1 (a softmax always sums to 1)"
                if isinstance(a, ast.Call) and _name(a.func) == "abs" and a.args and isinstance(a.args[0], ast.BinOp) \
                        and _is_sum(a.args[0].left) and _near_one(_const(a.args[0].right)):
                    return "|sum - 1| < eps (a softmax always sums to 1)"
            # lo <= x <= hi with [0, 1] inside [lo, hi]
            if len(items) == 3 and all(isinstance(o, (ast.Lt, ast.LtE)) for o in node.ops):
                lo, hi = _const(items[0]), _const(items[2])
                if lo is not None and hi is not None and lo <= 0 and hi >= 1:
                    return f"{lo:g} <= x <= {hi:g} holds for any probability or accuracy"
            # (A >= 0).all(), p >= 0.0: non-negativity of a probability
            if len(items) == 2 and isinstance(node.ops[0], ast.GtE) and _const(items[1]) == 0.0:
                return "x >= 0 holds for any probability, count or length"
        if isinstance(node, ast.Call) and _name(node.func) in ("allclose", "isclose", "equal", "array_equal"):
            args = node.args[:2]
            if len(args) == 2:
                if ast.dump(args[0]) == ast.dump(args[1]):
                    return "the same expression on both sides"
                for a, b in (args, args[::-1]):
                    if _is_sum(a) and _near_one(_const(b)):
                        return "a sum compared with 1 (a softmax always sums to 1)"
    return None


def notebook_asserts(source: str) -> list:
    """``[(assert source, reason or None)]`` for one code cell (magics and shell lines blanked)."""
    code = "\n".join("" if MAGIC.match(line) else line for line in source.splitlines())
    out = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Assert):
            out.append((ast.get_source_segment(code, node), why_tautology(node.test)))
    return out


def notebook_cells_asserts(path) -> list:
    """``[(cell index, assert source, reason or None)]`` for every code cell of a notebook file."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    out = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            out += [(i, s, why) for s, why in notebook_asserts(src)]
    return out


def main(paths) -> int:
    bad = 0
    for path in paths:
        for i, src, why in notebook_cells_asserts(path):
            if why:
                bad += 1
                print(f"{Path(path).name} cell {i}: {why}\n    {src.splitlines()[0]}")
    return 1 if bad else 0


if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent
    sys.exit(main(sys.argv[1:] or sorted((root / "notebooks").glob("*.ipynb"))))
