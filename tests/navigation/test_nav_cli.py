"""`embodied-stack eval nav --json`: one object per planner x scenario x density with every metric."""

import json

from embodied_stack.cli import CommandRegistry, build_parser
from embodied_stack.navigation import cli as nav_cli
from embodied_stack.navigation.metrics import METRIC_NAMES


def _run(argv):
    registry = CommandRegistry()
    nav_cli.register(registry)
    args = build_parser(registry).parse_args(argv)
    return args._run(args)


def test_json_contract_and_plots(tmp_path, capsys):
    plots = tmp_path / "plots"
    assert _run(["eval", "nav", "--planner", "social_force,dwa", "--scenario", "head_on,doorway",
                 "--people", "0,3", "--episodes", "1", "--seed", "10000", "--json",
                 "--plots", str(plots)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    cells = {(r["planner"], r["scenario"], r["people"]) for r in rows}
    expected = {(p, s, n) for p in ("social_force", "dwa") for s in ("head_on", "doorway") for n in (0, 3)}
    assert cells == expected
    for r in rows:
        assert set(METRIC_NAMES) <= set(r) and r["episodes"] == 1
        assert r["success"] in (0.0, 1.0) and r["decision_ms_p50"] > 0
    assert sorted(p.name for p in plots.glob("traj_*.svg"))[0] == "traj_dwa_doorway_0.svg"
    assert (plots / "bars_success_3.svg").read_text().startswith("<svg")


def test_table_output(capsys):
    assert _run(["eval", "nav", "--planner", "orca", "--scenario", "overtaking", "--people", "2",
                 "--episodes", "1", "--plots", ""]) == 0
    out = capsys.readouterr().out
    assert "overtaking" in out and "orca" in out and "succ" in out
