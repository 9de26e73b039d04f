"""The soak tool's pure parts (tools/soak.py): the growth verdict, the lost-key count, the
drop count and the report. Figures made up by hand: no Docker, browser or stack."""

from __future__ import annotations

import pytest

from tools import soak


def test_a_flat_series_after_the_warm_up_is_bounded() -> None:
    # The first two samples (warm-up) are skipped: the jump from 50 to 100 does not count.
    values = [50.0, 80.0, 100.0, 101.0, 100.0, 102.0, 101.0, 103.0]
    verdict = soak.growth_verdict(values)
    assert verdict["verdict"] == "bounded"
    assert verdict["samples"] == 6
    # thirds of two samples: [100, 101] and [101, 103]
    assert (verdict["first"], verdict["last"]) == (100.5, 102.0)
    assert verdict["growth_mib"] == pytest.approx(1.5)


def test_growth_over_both_limits_is_growing() -> None:
    values = [0.0, 0.0, 100.0, 105.0, 110.0, 115.0, 120.0, 125.0, 130.0]
    verdict = soak.growth_verdict(values)
    # seven samples, thirds of two: [100, 105] and [125, 130]: +25 MiB, +24 %
    assert verdict["verdict"] == "growing"
    assert verdict["growth_mib"] == pytest.approx(25.0)
    assert verdict["growth_percent"] == pytest.approx(25 / 102.5 * 100)


def test_either_limit_keeps_a_series_bounded() -> None:
    # +8 MiB on 1000 MiB: over 5 MiB, but under 10 %.
    big = [0.0, 0.0, 1000.0, 1000.0, 1004.0, 1004.0, 1008.0, 1008.0]
    assert soak.growth_verdict(big)["verdict"] == "bounded"
    # +4 MiB on 20 MiB: 20 %, but under 5 MiB.
    small = [0.0, 0.0, 20.0, 20.0, 22.0, 22.0, 24.0, 24.0]
    assert soak.growth_verdict(small)["verdict"] == "bounded"


def test_failed_samples_are_left_out_and_short_series_get_no_verdict() -> None:
    values = [1.0, 1.0, 100.0, None, 100.0, 130.0, None, 130.0]
    verdict = soak.growth_verdict(values)
    assert verdict["samples"] == 4
    assert verdict["verdict"] == "growing"  # 100 -> 130: +30 MiB, +30 %
    assert soak.growth_verdict([1.0, 2.0, 3.0, 4.0])["verdict"] == "too short"
    assert soak.growth_verdict([])["growth_mib"] is None


def test_the_trend_is_a_least_squares_slope_after_the_warm_up() -> None:
    times = [0.0, 30.0, 60.0, 90.0, 120.0, 150.0]
    # warm-up ignored; then +1 MiB every 30 s, one failed sample: 2 MiB/min
    values = [10.0, 90.0, 100.0, 101.0, None, 103.0]
    assert soak.slope_per_minute(times, values) == pytest.approx(2.0)
    assert soak.slope_per_minute(times, [1.0, 1.0, 5.0, 5.0, 5.0, 5.0]) == 0
    assert soak.slope_per_minute(times[:3], values[:3]) is None


def test_glxgears_goes_to_a_corner_clear_of_the_click_into_the_xterm() -> None:
    def facts(x: int, y: int, w: int = 480, h: int = 320) -> dict:
        return {"width": 1000, "height": 700, "white": {"x": x, "y": y, "w": w, "h": h}}

    # xterm in the middle (click at 500, 350): the top-left corner is clear
    assert soak.gears_position(facts(260, 190)) == (0, 0)
    # xterm at the top-left (click at 240, 160): the top-right corner
    assert soak.gears_position(facts(0, 0)) == (670, 0)
    # a screen smaller than the gears: the last corner, whatever it covers
    tiny = {"width": 200, "height": 200, "white": {"x": 0, "y": 0, "w": 200, "h": 200}}
    assert soak.gears_position(tiny) == (0, 0)


def test_lost_keys_are_typed_minus_arrived_in_order() -> None:
    typed = "000 abc\n001 def\n"
    assert soak.key_count(typed, typed) == {"typed": 16, "arrived": 16, "lost": 0, "extra": 0}
    # Two keys lost ("b", and the Enter of the first line), one doubled ("e").
    got = "000 ac001 deef\n"
    assert soak.key_count(typed, got) == {"typed": 16, "arrived": 14, "lost": 2, "extra": 1}
    # Nothing arrived at all.
    assert soak.key_count(typed, "")["lost"] == 16


def test_keys_repeated_by_autorepeat_are_extra_not_lost() -> None:
    # What a loaded machine gave (a key's release late: the X server repeats it): every
    # typed key is there in order. difflib's matching blocks counted most of them lost.
    typed = "".join(soak.typed_line(i, "soakab12") + "\n" for i in range(3))
    got = (
        "000 soakab12 ttttthe quick brown fox jumps over the lazyyyyy dog 0123456789\n\n"
        "001   soakab12 the qqquuuuuick brown fox jumps over the lazy dog 0123456789\n"
        "0002 soakab12 the quick browwn fox jumps over the lazy dog 01234556789\n"
    )
    counted = soak.key_count(typed, got)
    assert (counted["lost"], counted["arrived"]) == (0, len(typed))
    assert counted["extra"] == len(got) - len(typed) == 20


def test_drops_are_counted_when_a_connection_leaves_connected() -> None:
    states = [
        "connecting",
        "connected",
        "reconnecting",
        "connected",
        "reconnecting",
        "reconnecting",
        "connected",
        None,
        "connected",
    ]
    assert soak.count_drops(states) == 3  # two reconnects and a page that lost its log
    assert soak.count_drops(["connected"]) == 0
    assert soak.count_drops([]) == 0


def test_working_set_is_usage_minus_inactive_file_cache() -> None:
    v2 = {"memory_stats": {"usage": 300 * 2**20, "stats": {"inactive_file": 100 * 2**20}}}
    v1 = {"memory_stats": {"usage": 300 * 2**20, "stats": {"total_inactive_file": 2**20}}}
    assert soak.working_set_mib(v2) == 200
    assert soak.working_set_mib(v1) == 299
    assert soak.working_set_mib({"memory_stats": {"usage": 2**20}}) == 1


def test_typed_lines_are_numbered_and_layout_independent() -> None:
    line = soak.typed_line(7, "soakab12")
    assert line.startswith("007 soakab12 ")
    assert all(c.isalnum() or c == " " for c in line)


def result(samples: list[dict]) -> dict:
    users = ["soaka", "soakb"]
    return {
        "started": "2026-12-02T15:00:00+00:00",
        "url": "http://127.0.0.1:8000",
        "commit": "abc1234",
        "minutes": 1.5,
        "sample_every_s": 30,
        "warmup_samples": 2,
        "users": users,
        "samples": samples,
        "verdicts": soak.verdicts(samples, users),
        "keys": {
            "soaka": {"lines": 4, "typed": 200, "arrived": 200, "lost": 0, "extra": 0},
            "soakb": {
                "lines": 4,
                "typed": 200,
                "arrived": 197,
                "lost": 3,
                "extra": 0,
                "focus_elsewhere": 1,
            },
        },
        "connections": {
            "soaka": {"drops": 0, "states": ["connected"], "page_reloads": 0, "dialogs": 0},
            "soakb": {
                "drops": 1,
                "states": ["connected", "reconnecting"],
                "page_reloads": 0,
                "dialogs": 1,
            },
        },
        "redraw": {
            "soaka": {"redrawn": 3, "looked": 4, "glxgears_alive": 4},
            "soakb": {"redrawn": 3, "looked": 4, "glxgears_alive": 4},
        },
        "errors": [],
    }


SAMPLES = [
    {
        "t_s": 30.0 * i,
        "load": 2.5,
        "proxy_mib": 40.0 + i,
        "hub_mib": 150.0,
        "desktops": {"soaka": 120.0 + 10 * i, "soakb": 110.0},
    }
    for i in range(8)
]


def test_the_samples_table_has_a_row_per_sample_and_a_column_per_desktop() -> None:
    samples = [*SAMPLES[:2], {"t_s": 60.0, "load": None, "desktops": {"soaka": 121.0}}]
    lines = soak.samples_table(samples, ["soaka", "soakb"]).splitlines()
    assert lines[0] == (
        "| minute | load (1 min) | proxy MiB | hub MiB | soaka desktop PSS MiB "
        "| soakb desktop PSS MiB |"
    )
    assert lines[2] == "| 0.0 | 2.50 | 40.0 | 150.0 | 120.0 | 110.0 |"
    assert lines[3] == "| 0.5 | 2.50 | 41.0 | 150.0 | 130.0 | 110.0 |"
    assert lines[4] == "| 1.0 | n/a | n/a | n/a | 121.0 | n/a |"  # a sample that failed


def test_summary_and_report_name_growth_drops_and_lost_keys() -> None:
    run = result(SAMPLES)
    run["summary"] = soak.summary_line(run)
    assert run["summary"] == (
        "soak 1.5 min, 2 users, 8 samples: 1 dropped connection(s), 3 of 400 keys lost; "
        "memory growing: desktop soaka"
    )
    report = soak.render_report(run)
    # after the warm-up, thirds of two samples: 140, 150 ... 180, 190
    assert "| desktop soaka | 145.0 | 185.0 | 40.0 | 27.6 | growing | 20.00 |" in report
    assert "| proxy | 42.5 | 46.5 | 4.0 | 9.4 | bounded | 2.00 |" in report
    assert "| soakb | 1 | connected -> reconnecting | 0 | 1 |" in report
    assert "| soakb | 4 | 200 | 197 | 3 | 0 | 1 |" in report
    assert "(commit abc1234)" in report


def test_a_run_too_short_for_a_verdict_says_so() -> None:
    run = result(SAMPLES[:3])
    assert soak.summary_line(run).endswith("memory too short for a verdict")


def test_the_arguments_default_to_ten_minutes_three_users_every_thirty_seconds() -> None:
    args = soak.parse_args([])
    assert (args.minutes, args.users, args.sample_every) == (10, 3, 30)
    assert soak.parse_args(["--minutes", "2"]).minutes == 2


def test_a_late_sample_skips_the_slots_it_overran() -> None:
    assert soak.next_sample_at(0.5, 30) == 30
    assert soak.next_sample_at(30.0, 30) == 60
    assert soak.next_sample_at(75.0, 30) == 90


def test_processes_are_labelled_by_program() -> None:
    assert soak.process_label("/usr/bin/python3 /usr/bin/xpra start :12 --daemon=no") == "xpra"
    assert soak.process_label("Xvfb-for-Xpra-S12 +extension GLX") == "Xvfb-for-Xpra-S12"
    assert soak.process_label("glxgears -geometry 300x300+0+0") == "glxgears"
