"""The README's engine example runs as written and its claims hold."""
import re
from pathlib import Path


def test_readme_example_runs(capsys):
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    ns: dict = {}
    exec(compile(code, "README.md", "exec"), ns)
    fit, cert, path = ns["fit"], ns["cert"], ns["path"]
    assert fit.n_patterns == 1562 and fit.gap <= 1e-6
    assert cert.lower_bound <= fit.objective * (1 + 1e-9) <= cert.objective * (1 + 1e-9)
    assert path.n_betas == 20 and max(path.gaps) <= 1e-4
