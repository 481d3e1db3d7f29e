"""tools/notebook_code.py: each notebook's own code, without the setup cell every notebook shares."""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import notebook_code  # noqa: E402


def test_script_holds_every_code_cell_but_the_setup_cell():
    nb_path = ROOT / "notebooks" / "02_masked_lm.ipynb"
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    script = notebook_code.notebook_code(nb_path)
    assert "setup_notebook()" not in script and "pip install" not in script
    assert script.count("# cell ") == len(code) - 1
    assert f"# cell {code[1]['id']}\n" in script and "".join(code[1]["source"]).splitlines()[-1] in script
    compile(script, "02.py", "exec")          # magics dropped: the script is Python
