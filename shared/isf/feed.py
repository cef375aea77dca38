"""Synthetic hospital activity: reproducible episode and prescription events shaped like Norwegian activity.

HFs are drawn in proportion to their points in seed 000; patients come back (dialysis,
biologic drugs with prescriptions and infusions, AMD injections, PHV/TSB series); a share
of events is corrected (new version), withdrawn (a version of its own), sent twice, sent late or
invalid. Every patient has a home municipality: most live in the region of the HF that first
treats them, a few percent elsewhere (guest patients), more at the university hospitals, which take
patients from the whole country. The municipality numbers are synthetic (real county prefixes).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Iterator

from .registry import RHFS, hospitals, residence_codes, residence_rhf

# Case-mix templates: name, relative frequency, sector, care level, main conditions, procedures, extras
TEMPLATES = [
    (
        "inpatient_medical",
        10,
        "somatic",
        "inpatient",
        ["J189", "I509", "I219", "A419", "K859", "N390", "E119", "I639", "S720", "D509"],
        [],
        {},
    ),
    ("inpatient_cc", 3, "somatic", "inpatient", ["J441", "I509", "K802"], [], {"secondary": ["E870", "N179", "J969"]}),
    (
        "inpatient_surgery",
        5,
        "somatic",
        "inpatient",
        ["M161", "S720", "K359", "K802", "N812", "C509"],
        ["NFB40", "NGB20", "JEA01", "JKA21", "LCD10", "HAB40"],
        {"match_mdc": True},
    ),
    (
        "day_surgery",
        5,
        "somatic",
        "day",
        ["H269", "J350", "N812", "L031"],
        ["CJE20", "EMB10", "LAF11", "QBB10"],
        {"match_mdc": True},
    ),
    (
        "outpatient",
        40,
        "somatic",
        "outpatient",
        ["M545", "I480", "E039", "H401", "J459", "K291", "N200", "Z099", "C509", "D649"],
        [],
        {"modes": True},
    ),
    (
        "acute_short",
        4,
        "somatic",
        "inpatient",
        ["G439", "J459", "I10", "K291", "T781"],
        [],
        {"acute": True, "short": True},
    ),
    ("birth", 2, "somatic", "inpatient", ["O800", "O829"], [], {"female": True, "birth": True}),
    ("phv_outpatient", 18, "phv", "outpatient", ["F322", "F900", "F431", "F200", "F602"], [], {"modes": True}),
    ("tsb_outpatient", 6, "tsb", "outpatient", ["F100", "F112", "F122"], [], {"modes": True}),
    ("phv_inpatient", 1, "phv", "inpatient", ["F200", "F322"], [], {}),
    ("collab_somatic", 1, "somatic", "indirect", ["C509", "I509"], ["WPBA10"], {}),
    ("collab_phv", 4.5, "phv", "indirect", ["F322", "F900"], ["WPBA15"], {}),
    ("collab_tsb", 1.5, "tsb", "indirect", ["F100"], ["WPBA20"], {}),
    ("act_team", 0.5, "phv", "outpatient", ["F200"], ["IEAD00"], {}),
    ("somatic_team", 1, "somatic", "outpatient", ["I509"], [], {"special": ["B0044"]}),
    (
        "remote_monitoring",
        1,
        "somatic",
        "outpatient",
        ["C509", "E109", "I509", "J441", "N185", "H669", "M059", "L409"],
        ["WMAA30"],
        {},
    ),
    ("digital_form", 1, "somatic", "outpatient", ["M059", "E109"], ["WMGA28"], {}),
    ("online_programme", 1, "phv", "outpatient", ["F419", "F322"], ["IEAB20"], {}),
    ("relatives_phv", 1, "phv", "outpatient", ["F900"], ["WPBA25"], {}),
    ("nipt", 1, "somatic", "outpatient", ["Z348"], [], {"female": True, "debtor": "30"}),
]
# Series patients: repeat activity over the year
SERIES = [
    ("dialysis", 2),  # DRG 317O in hospital + home dialysis MS01/MS02, several a month
    ("biologic", 3),  # prescriptions (AS01/FS01/HS01/JS01) + infusions 801H/806H/808H/809H
    ("amd", 3),  # 802U injections
]
BIOLOGIC = [("G35", "801H"), ("K509", "806H"), ("M059", "808H"), ("L409", "809H")]
UNIVERSITY = {"ous", "hbe", "stolav", "unn"}  # regional hospitals with national and multi-regional services
# rough population of each region (millions): where guest patients come from
POPULATION = {"sor-ost": 3.1, "vest": 1.1, "midt-norge": 0.75, "nord": 0.48}


@dataclass
class FeedConfig:
    seed: int = 1
    year: int = 2026
    corrections: float = 0.03
    deletes: float = 0.01
    duplicates: float = 0.01
    late: float = 0.01
    invalid: float = 0.005
    guests: float = 0.03  # patients who live outside the region of the HF that treats them
    guests_university: float = 0.12  # the same at the university hospitals
    region: str | None = None  # every patient lives in this region (a test of "sørge for")


class Feed:
    """Iterate events as (key, JSON bytes); the same seed gives the same events."""

    def __init__(self, config: FeedConfig | None = None):
        self.cfg = config or FeedConfig()
        self.rng = random.Random(self.cfg.seed)
        hs = list(hospitals().values())
        self.hfs = [h.hf for h in hs]
        # an HF is drawn per activity in proportion to its points in that sector (seed 000)
        self.hf_weights = {
            "somatic": [h.somatic_points_2025 + 1 for h in hs],
            "phv_tsb": [h.phv_tsb_points_2025 + 1 for h in hs],
        }
        self.n = 0
        self.sent: list[dict] = []  # recent valid events, for corrections and duplicates
        self.latest: dict[str, int] = {}  # source -> highest version sent: a correction or delete is one more
        self.patients: dict[str, list[str]] = {}
        self.home: dict[str, str] = {}  # patient -> municipality
        self.counties = {r: sorted(c for c, x in residence_codes().items() if x == r and len(c) == 2) for r in RHFS}

    def _hf(self, sector: str) -> str:
        return self.rng.choices(self.hfs, self.hf_weights["somatic" if sector == "somatic" else "phv_tsb"])[0]

    def _patient(self, hf: str, new_share: float = 0.6) -> str:
        pool = self.patients.setdefault(hf, [])
        if not pool or self.rng.random() < new_share:
            pool.append(f"SYN-{hf}-{len(pool):07d}")
        return self.rng.choice(pool)

    def _when(self) -> datetime:
        start = datetime(self.cfg.year, 1, 1, 7, 0)
        return start + timedelta(minutes=self.rng.randrange(0, 320 * 24 * 60))

    def _municipality(self, hf: str) -> str:
        r, cfg = self.rng, self.cfg
        region = hospitals()[hf].rhf
        if cfg.region is not None:
            region = cfg.region
        elif r.random() < (cfg.guests_university if hf in UNIVERSITY else cfg.guests):
            others = [x for x in RHFS if x != region]
            region = r.choices(others, [POPULATION[x] for x in others])[0]
        while True:
            m = f"{r.choice(self.counties[region])}{r.randrange(1, 60):02d}"
            if residence_rhf(m, hf) == region:  # skips a number listed as an exception to its county
                return m

    def _base(self, hf: str, patient: str, sex: str | None = None) -> dict:
        self.n += 1
        r = self.rng
        born = date(r.randrange(1930, 2024), r.randrange(1, 13), r.randrange(1, 29))
        if patient not in self.home:
            self.home[patient] = self._municipality(hf)
        return {
            "event_id": f"ev-{self.cfg.seed}-{self.n}",
            "version": 1,
            "action": "upsert",
            "hf": hf,
            "patient_id": patient,
            "birth_date": born.isoformat(),
            "sex": sex or r.choice("MF"),
            "patient_municipality": self.home[patient],
        }

    def _episode(self, hf: str, patient: str, template) -> dict:
        name, _w, sector, care, mains, procs, extra = template
        r = self.rng
        ev = self._base(hf, patient, "F" if extra.get("female") else None)
        if extra.get("birth"):
            ev["birth_date"] = date(r.randrange(1985, 2004), r.randrange(1, 13), 1).isoformat()
        start = self._when()
        if care == "inpatient":
            los = 0 if extra.get("short") else r.choice([0, 1, 2, 3, 4, 5, 7, 9, 14, 21, 40])
            end = start + timedelta(days=los, hours=r.randrange(1, 10))
        else:
            end = start + timedelta(hours=1)
        main = r.choice(mains)
        # surgical templates pair each main condition with a procedure of its own MDC
        procedures = [procs[mains.index(main)]] if extra.get("match_mdc") else list(procs)
        ev.update(
            {
                "schema": "episode/v1",
                "episode_id": f"ep-{self.n}",
                "sector": sector,
                "care_level": care,
                "admitted_at": start.isoformat(),
                "discharged_at": end.isoformat(),
                "main_condition": main,
                "secondary_conditions": [r.choice(extra["secondary"])] if "secondary" in extra else [],
                "procedures": procedures,
                "special_codes": list(extra.get("special", [])),
                "atc_codes": [],
                "contact_mode": (
                    r.choices(["in_person", "video", "phone"], [80, 12, 8])[0]
                    if extra.get("modes")
                    else ("in_person" if care == "outpatient" else None)
                ),
                "urgency": "acute" if extra.get("acute") or (care == "inpatient" and r.random() < 0.4) else "planned",
                "debtor": extra.get("debtor", "11"),
                "discharge_summary_sent_at": (
                    end + timedelta(hours=r.choices([2, 12, 20, 30, 60], [30, 20, 17, 18, 15])[0])
                ).isoformat()
                if care == "inpatient"
                else None,
            }
        )
        return ev

    def _series(self, hf: str, kind: str) -> list[dict]:
        r = self.rng
        patient = self._patient(hf, new_share=1.0)
        out = []
        if kind == "dialysis":
            month = r.randrange(1, 13)
            for k in range(r.randrange(2, 6)):
                day = datetime(self.cfg.year, month, 1 + k * 5, 8)
                if r.random() < 0.5:
                    ev = self._episode(hf, patient, ("dialysis", 0, "somatic", "outpatient", ["N185"], ["KAS00"], {}))
                else:
                    ev = self._episode(
                        hf,
                        patient,
                        ("home_dialysis", 0, "somatic", "indirect", ["N185"], [r.choice(["KAS10", "KAS15"])], {}),
                    )
                ev["admitted_at"], ev["discharged_at"] = day.isoformat(), (day + timedelta(hours=4)).isoformat()
                out.append(ev)
        elif kind == "biologic":
            icd, _drg = r.choice(BIOLOGIC)
            for _ in range(r.randrange(1, 4)):
                if r.random() < 0.5:
                    ev = self._base(hf, patient)
                    ev.update(
                        {
                            "schema": "prescription/v1",
                            "prescription_id": f"rx-{self.n}",
                            "dispensed_at": self._when().isoformat(),
                            "drug_code": "L04AB02",
                            "atc": "L04AB02",
                            "indication": icd,
                        }
                    )
                else:
                    ev = self._episode(
                        hf,
                        patient,
                        ("infusion", 0, "somatic", "outpatient", [icd], [r.choice(["WBGM20", "WBGM10"])], {}),
                    )
                out.append(ev)
        elif kind == "amd":
            for _ in range(r.randrange(2, 10)):
                out.append(self._episode(hf, patient, ("amd", 0, "somatic", "outpatient", ["H353"], ["CKD05"], {})))
        return out

    def _invalid(self, hf: str) -> tuple[str, bytes]:
        r = self.rng
        self.n += 1
        kind = r.randrange(4)
        if kind == 0:
            return f"bad-{self.n}", b"{not json"
        ev = self._episode(hf, self._patient(hf), TEMPLATES[0])
        if kind == 1:
            ev["hf"] = "no-such-hf"
        elif kind == 2:
            ev["discharged_at"] = "2020-01-01T00:00:00"
        else:
            del ev["main_condition"]
        return ev.get("episode_id", f"bad-{self.n}"), json.dumps(ev).encode()

    @staticmethod
    def key_of(ev: dict) -> str:
        return f"{ev['hf']}:{ev.get('episode_id') or ev.get('prescription_id')}"

    def events(self, count: int) -> Iterator[tuple[str, bytes]]:
        r, cfg = self.rng, self.cfg
        tw = [t[1] for t in TEMPLATES]
        produced = 0
        pending: list[dict] = []
        while produced < count:
            if pending:
                ev = pending.pop(0)
            else:
                x = r.random()
                if x < cfg.invalid:
                    key, raw = self._invalid(self._hf("somatic"))
                    produced += 1
                    yield key, raw
                    continue
                if x < 0.04:
                    pending.extend(
                        self._series(self._hf("somatic"), r.choices([s[0] for s in SERIES], [s[1] for s in SERIES])[0])
                    )
                    continue
                template = r.choices(TEMPLATES, tw)[0]
                hf = self._hf(template[2])
                ev = self._episode(hf, self._patient(hf), template)
            produced += 1
            key = self.key_of(ev)
            self.latest[key] = max(self.latest.get(key, 0), ev["version"])
            yield key, json.dumps(ev).encode()
            self.sent.append(ev)
            if len(self.sent) > 2000:
                self.sent = self.sent[-1000:]
            y = r.random()
            if y < cfg.duplicates:
                pending.append(ev)  # the same event id again
            elif y < cfg.duplicates + cfg.corrections:
                pending.append(self._correct(r.choice(self.sent)))
            elif y < cfg.duplicates + cfg.corrections + cfg.deletes:
                old = r.choice(self.sent)
                version = self._next_version(old)
                pending.append(
                    {**old, "event_id": f"del-{self.n}-{old['event_id']}", "version": version, "action": "delete"}
                )
                self.n += 1
            elif y < cfg.duplicates + cfg.corrections + cfg.deletes + cfg.late:
                old = r.choice(self.sent)
                if old["version"] > 1:  # an older version arriving after a newer one: changes nothing
                    pending.append(
                        {**old, "event_id": f"late-{self.n}-{old['event_id']}", "version": old["version"] - 1}
                    )
                    self.n += 1

    def _next_version(self, old: dict) -> int:
        """One above every version of the source sent or queued so far: a correction or a withdrawal never
        shares a version with another event of its source."""
        key = self.key_of(old)
        self.latest[key] = self.latest.get(key, old["version"]) + 1
        return self.latest[key]

    def _correct(self, old: dict) -> dict:
        self.n += 1
        new = {
            **old,
            "event_id": f"fix-{self.n}-{old['event_id']}",
            "version": self._next_version(old),
            "action": "upsert",
        }
        if "main_condition" in new and self.rng.random() < 0.5:
            new["secondary_conditions"] = list(new.get("secondary_conditions", [])) + ["E870"]
        elif "main_condition" in new:
            new["procedures"] = list(new.get("procedures", [])) + ["ZZZ01"]  # an unknown code: regroups nothing
        return new
