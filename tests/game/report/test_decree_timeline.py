"""The debrief's decree timeline: what each decree did to speech, purchases and scores around it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from game.report import ReportCitizen, ReportData, ReportEntry, SourceKind
from game.report._html import render_html
from game.report._timeline import ReportDecree, decree_impacts

T0 = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)


def entry(n: int, citizen: int, audit: int, delta: int, source: SourceKind, **more: object) -> ReportEntry:
    return ReportEntry(
        entry_id=n,
        citizen_number=citizen,
        audit_number=audit,
        dimension="speech" if source in (SourceKind.MESSAGE, SourceKind.DECREE) else "consumption",
        delta=delta,
        score_before=0,
        score_after=0,
        reason="",
        source=source,
        rule_key=None,
        created_at=T0 + timedelta(minutes=audit * 2, seconds=n),
        **more,  # type: ignore[arg-type]
    )


def test_a_crackdown_shows_more_points_lost_while_it_held() -> None:
    entries = [
        entry(1, 1, 1, -40, SourceKind.MESSAGE),
        entry(2, 2, 2, 20, SourceKind.MESSAGE),
        entry(3, 1, 2, 15, SourceKind.PURCHASE),
        # The crackdown governs audits 3 and 4: penalties doubled.
        entry(4, 1, 3, -80, SourceKind.MESSAGE),
        entry(5, 2, 3, -80, SourceKind.MESSAGE),
        entry(6, 2, 4, -120, SourceKind.MESSAGE),
        entry(7, 1, 5, -40, SourceKind.MESSAGE),
    ]
    data = ReportData(
        score_floor=350,
        score_ceiling=950,
        guild_name="g",
        season_title="s",
        scenario_name="Game Night",
        started_at=T0,
        ended_at=None,
        generated_at=T0 + timedelta(hours=1),
        start_score=600,
        citizens=(
            ReportCitizen(number=1, display_name="ana", final_score=600, tier="Ordinary"),
            ReportCitizen(number=2, display_name="bo", final_score=600, tier="Ordinary"),
        ),
        entries=tuple(entries),
        decrees=(
            ReportDecree(
                key="crackdown",
                name="The Crackdown",
                source="timeline",
                took_effect_at=T0 + timedelta(minutes=4),
                from_audit=3,
                until_audit=4,
            ),
        ),
    )
    (impact,) = decree_impacts(data, window=2)
    assert impact.before is not None
    assert impact.during is not None
    assert (impact.before.first, impact.before.last, impact.during.first, impact.during.last) == (1, 2, 3, 4)
    assert (impact.before.speech_lost, impact.during.speech_lost) == (20.0, 140.0)
    assert (impact.before.messages_penalised, impact.during.messages_penalised) == (0.5, 1.5)
    assert (impact.before.purchases, impact.during.purchases) == (0.5, 0.0)
    assert impact.during.score_change == -70.0
    assert impact.rows()[0] == ("Speech points lost per audit", "20.0", "140.0")


def test_a_decree_before_the_first_audit_has_no_before() -> None:
    data = ReportData(
        score_floor=350,
        score_ceiling=950,
        guild_name="g",
        season_title="s",
        scenario_name="Classic",
        started_at=T0,
        ended_at=None,
        generated_at=T0,
        start_score=600,
        decrees=(ReportDecree(key="k", name="K", source="moderator", took_effect_at=T0, from_audit=1),),
    )
    (impact,) = decree_impacts(data)
    assert impact.before is None
    assert impact.rows()[0][1] == "–"


def test_the_timeline_section_escapes_and_lists_each_decree() -> None:
    decree = ReportDecree(key="k", name="<b>Crack</b>", source="moderator", took_effect_at=T0, from_audit=2)
    data = ReportData(
        score_floor=350,
        score_ceiling=950,
        guild_name="g",
        season_title="s",
        scenario_name="Classic",
        started_at=T0,
        ended_at=None,
        generated_at=T0,
        start_score=600,
        entries=(entry(1, 1, 1, -40, SourceKind.MESSAGE), entry(2, 1, 2, -80, SourceKind.MESSAGE)),
        decrees=(decree,),
    )
    html = render_html(data)
    assert '<section id="decrees"><h2>Decrees</h2>' in html
    assert '<a href="#decrees">Decrees</a>' in html
    assert "&lt;b&gt;Crack&lt;/b&gt;" in html
    assert "From audit 2 to the end,\nby a moderator" in html
    assert '<td>Speech points lost per audit</td><td class="n">40.0</td><td class="n">80.0</td>' in html
    assert 'id="decrees"' not in render_html(replace(data, decrees=()))
