"""The docs' figures: every image a page shows exists and says what it shows, every figure in
docs/figures is shown, each is an SVG, and scripts/figures.py draws its figures again the same.

The same image check stops `mkdocs build` (scripts/mkdocs_hooks.py); this one runs without
building the site, nor mkdocs installed. The benchmark charts (``bench_*.svg``) come from
timed runs, so they are checked for being there and valid, and their drawing code once, on
given numbers.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import pytest

import lkframes as lk

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "docs" / "figures"
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
SVG = "{http://www.w3.org/2000/svg}"


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_lkf_{path.stem}", path)
    assert spec is not None, path
    assert spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hooks = _load(ROOT / "scripts" / "mkdocs_hooks.py")


def _structure(path: Path) -> list[tuple[str, str]]:
    """Each element's tag and its own text, in document order: what a drawing holds, without
    the coordinates (which move with the matplotlib version)."""
    return [(e.tag, (e.text or "").strip()) for e in ET.parse(path).iter()]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_image_on_a_page_exists_and_has_alt_text(page: Path) -> None:
    assert hooks.image_problems(page.read_text(), page) == []


def test_every_figure_is_shown_on_a_page() -> None:
    shown = {
        (page.parent / image.target).resolve()
        for page in PAGES
        for image in hooks.images(page.read_text())
    }
    figures = sorted(FIGURES.glob("*.svg"))
    assert len(figures) >= 8, figures  # 5 drawings and the benchmark charts
    assert [f.name for f in figures if f.resolve() not in shown] == []


@pytest.mark.parametrize("figure", sorted(FIGURES.glob("*.svg")), ids=lambda p: p.name)
def test_each_figure_is_an_svg_with_text(figure: Path) -> None:
    root = ET.parse(figure).getroot()
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox"), "no viewBox: it would not scale with the page"
    assert [t for t in root.iter(f"{SVG}text") if "".join(t.itertext()).strip()], "no text"
    assert b"<dc:date>" not in figure.read_bytes(), "a date makes every regeneration differ"


def test_the_figures_script_draws_the_committed_figures_again(tmp_path: Path) -> None:
    here = str(Path(lk.__file__).resolve().parents[1])  # the lkframes this run tests
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([here, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "figures.py"), "--out", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    drawn = sorted(p.name for p in tmp_path.glob("*.svg"))
    committed = sorted(p.name for p in FIGURES.glob("*.svg") if not p.name.startswith("bench_"))
    assert drawn == committed
    for name in drawn:
        # The same elements with the same texts (numbers measured included), in order.
        assert _structure(tmp_path / name) == _structure(FIGURES / name), name


def test_a_missing_figure_or_alt_text_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "there.svg").write_text("<svg/>")
    page = tmp_path / "page.md"
    markdown = (
        "![A chart of x](there.svg)\n"
        "![](there.svg)\n"
        "![Gone](figures/gone.svg)\n"
        "```markdown\n![in code](not-checked.svg)\n```\n"
        "and `![inline code](not-checked.svg)`\n"
    )
    problems = hooks.image_problems(markdown, page)
    assert problems == [
        "'there.svg' has no alt text (say what it shows)",
        "'figures/gone.svg' is not a file (python scripts/figures.py?)",
    ]


def test_the_benchmark_chart_draws_the_ratios_it_is_given(tmp_path: Path) -> None:
    common = _load(ROOT / "benchmarks" / "_common.py")
    path = common.write_chart(
        "example",
        {"a case": [("lkframes, the pipeline", 1.25), ("the hand loop", 1.0)]},
        command="python benchmarks/bench_example.py",
        xlabel="speed / the hand loop's (higher is faster)",
        out_dir=tmp_path,
        load="x86_64, 2 CPUs, load 0.5",
    )
    assert path == tmp_path / "bench_example.svg"
    texts = {"".join(t.itertext()) for t in ET.parse(path).iter(f"{SVG}text")}
    assert {" 1.25x", " 1.00x", "lkframes, the pipeline", "a case"} <= texts
    assert any("load 0.5" in text for text in texts)
    args = common.parser(None, quick="short").parse_args(["--quick"])
    assert common.chart_dir(args) is None  # a smoke run leaves the committed charts alone
    args = common.parser(None, quick="short").parse_args([])
    assert common.chart_dir(args) == FIGURES
