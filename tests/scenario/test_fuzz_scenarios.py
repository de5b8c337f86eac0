"""Property-based tests of scenario input: every bad file or override is refused cleanly.

Hypothesis generates and mutates scenario files and ``--set`` overrides: wrong types, missing and
unknown keys, out-of-range and non-finite numbers, huge values, empty files, binary junk, deep
nesting, YAML alias bombs, Python-object tags, cyclic, missing and path-like ``extends``. Each case
must either load into a scenario that holds exactly what was written, or raise
:class:`~sim.errors.ScenarioError` with a one-line message naming the file, the field and what is
allowed. Any other exception, a converted value or a silent default fails the test. No model is run.

``EXAMPLES`` gives the number of cases of each test; docs/reliability.md records the totals.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import math
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sim.errors import ScenarioError, printable
from sim.scenario.base import parse_month
from sim.scenario.events import EVENT_TYPES
from sim.scenario.loader import load_scenario, scenario_dict, with_overrides
from sim.scenario.schema import Scenario
from sim.scenario.yamlio import MAX_DEPTH, MAX_FILE_BYTES, parse_yaml

EXAMPLES = {
    "mutated_files": 350,
    "overrides": 200,
    "text_files": 150,
    "binary_files": 50,
    "hostile_yaml": 100,
    "extends": 100,
}


def fuzz(name: str) -> settings:
    """Return the Hypothesis settings of one fuzz test (no deadline: the machine may be busy)."""
    return settings(
        max_examples=EXAMPLES[name],
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# -- the oracle -----------------------------------------------------------------------------------

ALLOWED = re.compile(
    r"allowed|expected|must|give |needs?|at most|at least|one of|deeper than|not a scenario name"
    r"|unknown|cyclic|is empty|did you mean|malformed YAML|not a text file|not UTF-8|cannot be read"
    r"|larger than|only |leads outside|no such",
    re.IGNORECASE,
)


def check_refusal(exc: ScenarioError, where: str) -> None:
    """Check that a refusal is one clean line naming the file (``where``), field and allowed values.

    Args:
        exc: The error raised.
        where: Text the message must contain (the file name, or ``--set``).
    """
    text = str(exc)
    assert text and "\n" not in text and "\r" not in text, text
    assert where in text, f"{where!r} not named in: {text}"
    assert "Traceback" not in text and " object at 0x" not in text, text
    if exc.field:
        assert printable(exc.field) in text
    assert ALLOWED.search(exc.detail), f"no allowed values or reason in: {text}"


# -- a small valid scenario layer, and the paths it resolves to ---------------------------------

LAYER: dict[str, Any] = {
    "name": "fuzzed",
    "description": "A scenario file written by the fuzz tests.",
    "start": "2020-01",
    "months": 12,
    "n_synthetic_firms": 3,
    "timeline": {
        "stance": {"date": "2020-02", "type": "stance", "platform_stringency": 0.6,
                   "self_reliance": 0.5},
        "macro": {"date": "2020-01", "type": "macro", "gdp_growth": 0.05, "risk_appetite": 0.1},
        "signal": {"date": "2020-03", "type": "signal", "strength": -0.3},
        "controls": {"date": "2020-04", "type": "export_control", "blocked_share": 0.4},
        "sourcing": {"date": "2020-04", "type": "sourcing_rule", "domestic_share_required": 0.2},
        "capital": {"date": "2020-05", "type": "fund_capital", "fund": "BigFund",
                    "capital_cny_bn": 100.0},
        "fine": {"date": "2020-06", "type": "fine", "firm": "Alibaba", "regulator": "SAMR",
                 "amount_cny_bn": 5.0},
        "freeze": {"date": "2020-06", "type": "freeze", "firm": "Didi", "regulator": "CAC",
                   "kind": "app_removal", "months": 6},
        "probe": {"date": "2020-07", "type": "investigation", "firm": "Meituan",
                  "regulator": "SAMR", "months": 3},
        "stake": {"date": "2020-08", "type": "golden_share", "firm": "ByteDance", "fund": "CIIF"},
        "ipo": {"date": "2020-09", "type": "listing", "firm": "Ant Group",
                "market_value_usd_bn": 300.0},
        "deal": {"date": "2020-10", "type": "deal", "city": "Hangzhou", "firm": "Alibaba",
                 "amount_cny_bn": 2.0},
    },
}  # fmt: skip
ACTOR_TABLES = ("regulators", "cities", "funds", "firms", "timeline")


@functools.cache
def resolved() -> dict[str, Any]:
    """Return the resolved form of :data:`LAYER` (loaded once)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzzed.yaml"
        path.write_text(yaml.safe_dump(LAYER), encoding="utf-8")
        return scenario_dict(load_scenario(path))


def walk_paths(node: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Return the path of every mapping entry under ``node`` (lists count as values)."""
    out = []
    if isinstance(node, dict):
        for key, value in node.items():
            out.append((*prefix, key))
            out += walk_paths(value, (*prefix, key))
    return out


@functools.cache
def paths() -> list[tuple[str, ...]]:
    """Return every field path of the resolved scenario."""
    return walk_paths(resolved())


@functools.cache
def dict_paths() -> list[tuple[str, ...]]:
    """Return the root and every path holding a mapping (where unknown keys can be added)."""
    data = resolved()
    return [()] + [p for p in paths() if isinstance(get(data, p), dict)]


def get(data: Any, path: tuple[str, ...]) -> Any:
    """Return the value at ``path``."""
    for part in path:
        data = data[part]
    return data


def put(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    """Set ``value`` at ``path``, creating mappings on the way."""
    for part in path[:-1]:
        if not isinstance(data.get(part), dict):
            data[part] = {}
        data = data[part]
    data[path[-1]] = value


def same(given: Any, loaded: Any, path: tuple[str, ...]) -> bool:
    """Tell whether a loaded value holds exactly what was written (``None`` deletes: anything)."""
    if given is None:
        return True
    if isinstance(given, dict):
        return isinstance(loaded, dict) and all(
            v is None or (str(k) in loaded and same(v, loaded[str(k)], (*path, str(k))))
            for k, v in given.items()
        )
    if isinstance(given, list | tuple):
        return isinstance(loaded, list | tuple) and len(given) == len(loaded) and all(
            same(g, v, path) for g, v in zip(given, loaded, strict=True)
        )
    if isinstance(given, bool):
        return loaded is given
    if isinstance(given, int | float):
        return not isinstance(loaded, bool) and isinstance(loaded, int | float) and loaded == given
    if isinstance(given, dt.date):
        return isinstance(loaded, str) and loaded == f"{given.year:04d}-{given.month:02d}"
    if isinstance(given, str) and path and path[-1] in ("date", "start"):
        return loaded == parse_month(given)
    return bool(loaded == given)


# -- strategies -----------------------------------------------------------------------------------

NAMES = ["Alibaba", "SAMR", "CAC", "Beijing", "Hangzhou", "CIIF", "BigFund", "data", "antitrust",
         "fine", "stance", "listing_halt", "app_removal", "golden_share", "chip",
         *EVENT_TYPES]  # fmt: skip
SPECIAL_TEXT = ["", " ", "yes", "no", "on", "null", "~", "1e5", "nan", ".inf", "-.inf", "0x10",
                "2021-04", "2020-13", "1900-00", "2021-04-31", "12", "0.5", "true", "&a", "*a",
                "!!python/object/apply:os.system", "../baseline", "/etc/passwd",
                "a" * 5000]  # fmt: skip
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([0, 1, -1, 2, 12, 60, 1200, 1201, 2**31, 2**63, -(2**63), 10**30, 10**300]),
    st.floats(),
    st.floats(min_value=-2.0, max_value=2.0),
    st.sampled_from([0.0, -0.0, 1.0, 0.5, 1e-300, 5e-324, 1e300, 1.7976931348623157e308]),
    st.text(max_size=20),
    st.sampled_from(SPECIAL_TEXT + NAMES),
    st.dates(),
)
junk = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(NAMES) | st.text(max_size=8), inner, max_size=4),
    max_leaves=8,
)


def typo(key: str) -> st.SearchStrategy[str]:
    """Return near misses of a key: a letter dropped, doubled or swapped, or a changed case."""
    variants = {key + "s", key[:-1], key.upper(), key.replace("_", "-"), key.replace("_", ""),
                key[1:] + key[0], f" {key}", f"{key} "}  # fmt: skip
    return st.sampled_from(sorted(v for v in variants if v and v != key))


@st.composite
def mutation(draw: st.DrawFn) -> tuple[str, tuple[str, ...], Any, dict[str, Any]]:
    """Return (operation, path, value, file content) for one mutated scenario file."""
    layer = copy.deepcopy(LAYER)
    op = draw(st.sampled_from(["set", "set", "set", "delete", "unknown", "rename"]))
    if op == "unknown":
        parent = draw(st.sampled_from(dict_paths()))
        key = "zz_" + draw(st.text(min_size=1, max_size=6))
        path, value = (*parent, key), draw(junk)
    elif op == "rename":
        path = draw(st.sampled_from(paths()))
        siblings = get(resolved(), path[:-1]) if path[:-1] else resolved()
        new = draw(typo(path[-1]))
        assume(new not in siblings)
        path, value = (*path[:-1], new), copy.deepcopy(get(resolved(), path))
    else:
        path = draw(st.sampled_from(paths()))
        value = draw(junk) if op == "set" else None
    put(layer, path, value)
    for _ in range(draw(st.integers(0, 2))):  # sometimes more changes, each one valid or not
        extra = draw(st.sampled_from(paths()))
        put(layer, extra, draw(junk))
        op = "several"
    return op, path, value, layer


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder for the generated files, shared by the cases of a module."""
    return tmp_path_factory.mktemp("fuzz")


def write(folder: Path, name: str, content: str | bytes) -> Path:
    """Write a scenario file and return its path."""
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", errors="surrogatepass")
    return path


def load_or_refusal(path: Path) -> Scenario | None:
    """Load ``path``; on refusal check the message and return None."""
    try:
        return load_scenario(path)
    except ScenarioError as exc:
        check_refusal(exc, path.name)
        return None


# -- the tests ------------------------------------------------------------------------------------


@fuzz("mutated_files")
@given(case=mutation())
def test_mutated_scenario_files_load_exactly_or_are_refused(
    case: tuple[str, tuple[str, ...], Any, dict[str, Any]], workdir: Path
) -> None:
    op, path, value, layer = case
    text = yaml.dump(layer, Dumper=yaml.CSafeDumper, allow_unicode=True, sort_keys=False)
    scenario = load_or_refusal(write(workdir, "fuzzed.yaml", text))
    if scenario is None:
        return
    data = scenario_dict(scenario)
    if op == "rename" and not (len(path) == 2 and path[0] in ACTOR_TABLES):
        pytest.fail(f"misspelt key {'.'.join(path)} was accepted")
    if op in ("unknown", "rename"):
        # Only a new actor or event in a table of actors may be added; it must then be there.
        assert len(path) == 2 and path[0] in ACTOR_TABLES, f"unknown key {path} accepted"
        assert path[1] in data[path[0]]
    elif op == "set":
        try:
            loaded = get(data, path)
        except KeyError:
            assert value is None or value == {} or isinstance(value, dict), path
            return
        assert same(value, loaded, path), f"{'.'.join(path)}: wrote {value!r}, loaded {loaded!r}"


def override_text(value: Any) -> str:
    """Write a value as it would be typed after ``--set path=``."""
    text = yaml.dump(value, Dumper=yaml.CSafeDumper, default_flow_style=True, width=10**9,
                     allow_unicode=True)
    return text.removesuffix("\n").removesuffix("\n...").strip()


@st.composite
def override(draw: st.DrawFn) -> str:
    """Return one ``--set`` text: a real or misspelt path, ``=``, a value or raw text."""
    kind = draw(st.sampled_from(["field", "field", "typo", "raw"]))
    if kind == "raw":
        return draw(st.text(max_size=40))
    path = list(draw(st.sampled_from(paths())))
    if kind == "typo":
        path[-1] = draw(typo(path[-1]))
    value = draw(st.one_of(junk.map(override_text), st.text(max_size=20)))
    return f"{'.'.join(path)}={value}"


@functools.cache
def base_scenario() -> Scenario:
    """Return the scenario overrides are applied to."""
    return with_overrides(load_scenario("crackdown"), ["months=12"])


@fuzz("overrides")
@given(text=override())
def test_overrides_apply_exactly_or_are_refused(text: str) -> None:
    try:
        scenario = with_overrides(base_scenario(), [text])
    except ScenarioError as exc:
        check_refusal(exc, "--set")
        return
    key, _, raw = text.partition("=")
    path = tuple(p.strip() for p in key.strip().split("."))
    value, _ = parse_yaml(raw, "--set")
    data = scenario_dict(scenario)
    if value is None:
        return
    assert same(value, get(data, path), path), f"--set {text!r} gave {get(data, path)!r}"


YAML_PIECES = ["name: x\n", "months: 12\n", "firms:\n", "  Alibaba:\n", "    revenue_cny_bn: ",
               "timeline: {", "}", "[", "]", "{", ": ", "- ", "? ", "&a ", "*a ", "*b", "!!binary ",
               "!!python/object/apply:os.system ['true'] ", "!!set {a, b}", "!!omap [a: 1]",
               "%YAML 1.1\n", "---\n", "...\n", "|\n  text\n", ">\n", "\t", "'", '"', "# note\n",
               "\n", "  ", "1e5", ".nan", "-.inf", "2021-04-31", "~", "extends: ", "baseline",
               "../crackdown", "\\", "\u2028", "\ufeff", "\x1b", "\x7f", "\ud800"]  # fmt: skip


@fuzz("text_files")
@given(text=st.one_of(st.lists(st.sampled_from(YAML_PIECES), max_size=25).map("".join),
                      st.text(max_size=200)))  # fmt: skip
def test_text_junk_is_refused_cleanly(text: str, workdir: Path) -> None:
    load_or_refusal(write(workdir, "junk.yaml", text))


@fuzz("binary_files")
@given(content=st.binary(max_size=400))
def test_binary_junk_is_refused_cleanly(content: bytes, workdir: Path) -> None:
    load_or_refusal(write(workdir, "binary.yaml", content))


def nested(depth: int, flow: bool) -> str:
    """Return a value nested ``depth`` levels deep."""
    if flow:
        return "[" * depth + "]" * depth
    return "".join(f"\n{'  ' * (i + 1)}k:" for i in range(depth)) + " 1"


def alias_bomb(levels: int, width: int) -> str:
    """Return a "billion laughs" document: ``width ** levels`` values through aliases."""
    lines = ["zz_lol0: &l0 [lol]"]
    for i in range(1, levels + 1):
        refs = ", ".join([f"*l{i - 1}"] * width)
        lines.append(f"zz_lol{i}: &l{i} [{refs}]")
    lines.append(f"description: *l{levels}")
    return "name: bomb\n" + "\n".join(lines) + "\n"


TAGS = ["!!python/object/apply:os.system ['true']", "!!python/name:os.system",
        "!!python/module:os", "!!python/object/new:dict {}", "!!python/tuple [1, 2]",
        "!ruby/object {}", "!custom x", "!!set {a, b}", "!!omap [a: 1]", "!!binary aGVsbG8=",
        "!!timestamp 2021-02-30", "!!int 0b102", "!!float x", "!!str", "!!null x", "!!bool maybe",
        "!<tag:example.com,2024:thing> x", "!!merge x"]  # fmt: skip


@st.composite
def hostile(draw: st.DrawFn) -> str | bytes:
    """Return a hostile document: deep nesting, alias bombs, tags, huge or empty content."""
    kind = draw(st.sampled_from(["deep", "bomb", "recursive", "tag", "huge", "empty", "encoding",
                                 "documents", "number"]))  # fmt: skip
    if kind == "deep":
        depth = draw(st.one_of(st.integers(MAX_DEPTH - 3, MAX_DEPTH + 3), st.integers(1, 200_000)))
        flow = draw(st.booleans())
        value = nested(depth, flow) if flow else nested(min(depth, 3000), flow)
        return f"name: deep\nparams: {value}\n"
    if kind == "bomb":
        return alias_bomb(draw(st.integers(1, 12)), draw(st.integers(2, 12)))
    if kind == "recursive":
        return draw(st.sampled_from([
            "name: r\ndescription: &a [*a]\n", "name: r\nparams: &p {firms: *p}\n",
            "&top {name: r, params: *top}\n", "name: r\nfirms: &f {Alibaba: {sector: *f}}\n",
        ]))  # fmt: skip
    if kind == "tag":
        field = draw(st.sampled_from(["description", "months", "params", "firms", "name"]))
        return f"name: tagged\n{field}: {draw(st.sampled_from(TAGS))}\n"
    if kind == "huge":
        size = draw(st.sampled_from([10_000, 1_000_000, MAX_FILE_BYTES + 1]))
        return "name: huge\ndescription: " + "x" * size + "\n"
    if kind == "empty":
        return draw(st.sampled_from(["", " ", "\n\n", "# only a comment\n", "---\n", "...\n",
                                     "null\n", "~\n", "[]\n", "{}\n", "42\n",
                                     "'text'\n"]))  # fmt: skip
    if kind == "encoding":
        text = "name: enc\ndescription: Zhōngguó 中国\n"
        codec = draw(st.sampled_from(["utf-16", "utf-32", "latin-1", "gb18030", "utf-8-sig"]))
        return text.encode(codec, errors="replace")
    if kind == "documents":
        return "name: one\n---\nname: two\n"
    digits = draw(st.integers(100, 6000))
    return f"name: big\nmonths: {'9' * digits}\nn_synthetic_firms: 1{'0' * digits}.5\n"


@fuzz("hostile_yaml")
@given(content=hostile())
def test_hostile_yaml_is_refused_cleanly(content: str | bytes, workdir: Path) -> None:
    scenario = load_or_refusal(write(workdir, "hostile.yaml", content))
    if scenario is None:
        return
    if isinstance(content, bytes):  # only UTF-8 text (with or without a byte-order mark) is read
        assert scenario.name == "enc" and scenario.description in content.decode("utf-8-sig")
    elif scenario.name == "tagged":  # core tags with a plain meaning: ``!!null x`` removes
        assert "!!null" in content or "!!str" in content
    else:  # a large but allowed description
        assert scenario.name == "huge" and len(content) <= MAX_FILE_BYTES


EXTENDS_CHOICES = ["baseline", "crackdown", "missing_one", "../outside", "..", ".", ".hidden",
                   "/etc/passwd", "sub/a", "a.yaml", "", " ", "a\\b", "~", "$HOME"]  # fmt: skip


@st.composite
def extends_graph(draw: st.DrawFn) -> dict[str, Any]:
    """Return scenario files ``s0..sN`` whose ``extends`` point at each other or elsewhere."""
    n = draw(st.integers(1, 6))
    names = [f"s{i}" for i in range(n)]
    target = st.one_of(st.sampled_from(names), st.sampled_from(EXTENDS_CHOICES))
    value = st.one_of(
        st.none(), target, st.lists(target, max_size=3), st.integers(), st.booleans(),
        st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
        st.lists(st.integers(), min_size=1, max_size=2),
    )  # fmt: skip
    return {name: draw(value) for name in names}


def reaches_bad(graph: dict[str, Any], start: str) -> bool:
    """Tell whether following ``extends`` from ``start`` meets a cycle or any non-shipped name."""
    seen: list[str] = []

    def visit(name: str) -> bool:
        if name in seen:
            return True
        value = graph[name]
        if value is None:
            return False
        targets = value if isinstance(value, list) else [value]
        if not targets or not all(isinstance(t, str) for t in targets):
            return True
        seen.append(name)
        bad = any(t not in ("baseline", "crackdown") and (t not in graph or visit(t))
                  for t in targets)  # fmt: skip
        seen.pop()
        return bad

    return visit(start)


@fuzz("extends")
@given(graph=extends_graph())
def test_extends_resolve_within_the_search_path_or_are_refused(
    graph: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = tmp_path_factory.mktemp("extends")
    folder = root / "scenarios"
    folder.mkdir()
    (root / "outside.yaml").write_text("name: outside\nmonths: 1\n", encoding="utf-8")
    (folder / "sub").mkdir()
    (folder / "sub" / "a.yaml").write_text("name: a\n", encoding="utf-8")
    for name, parent in graph.items():
        body: dict[str, Any] = {"name": name, "months": 12}
        if parent is not None:
            body["extends"] = parent
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(body), encoding="utf-8")
    try:
        scenario = load_scenario(folder / "s0.yaml")
    except ScenarioError as exc:
        check_refusal(exc, ".yaml")
        return
    assert not reaches_bad(graph, "s0"), f"accepted {graph}"
    assert scenario.months == 12  # nothing from outside.yaml (months: 1) got in


def test_a_long_extends_chain_is_refused(tmp_path: Path) -> None:
    for i in range(30):
        text = f"name: c{i}\n" + (f"extends: c{i + 1}\n" if i < 29 else "")
        (tmp_path / f"c{i}.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError, match="deeper than") as info:
        load_scenario(tmp_path / "c0.yaml")
    check_refusal(info.value, ".yaml")


@pytest.mark.parametrize("value", ["1e5", "2.5E-3", "-1e2", "1E+3"])
def test_exponent_numbers_are_numbers(value: str) -> None:
    """YAML 1.2 reads ``1e5`` as a number; so does the loader (PyYAML alone reads text)."""
    data, _ = parse_yaml(f"x: {value}", "t.yaml")
    assert isinstance(data["x"], float) and math.isclose(data["x"], float(value))
