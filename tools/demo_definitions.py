"""Author the project's illustrative NordDRG-format definition sets and weight lists (2025, 2026).

Everything written here is ILLUSTRATIVE: made up by this project in the official table
format so the product runs without the directorate's data. Codes named in the seeds
(DRGs 55/55O, 60N/59N/60O, 112B/112P, 317O, 361/361O, 362/362O, 389A, 412A, 530/530O/531,
801H-809H, 802U, 853X, 980-DRGs, TD96A/TD96B, WBGM10, WPBA25, T85.0, Z94.8, L04AC05 with
PROCPR 90O10) carry the seeds' meaning, and the DRGs seed 000 names carry its names exactly;
the rest of the numbering, every weight and every trim point is invented.
Run `make demo-defs` to rewrite shared/isf/rules/data/<year>/.
"""

from __future__ import annotations

import csv
from pathlib import Path

from isf.grouping.tables import LOGIC_COLUMNS

OUT = Path(__file__).resolve().parent.parent / "shared" / "isf" / "rules" / "data"

# Marker procedure codes the episode mapping adds (see isf.grouping.mapping).
MARKERS = [("ZZCD", "00V02"), ("ZZCO", "00V03"), ("ZZSP", "00V10"), ("ZZST", "00V11"), ("ZZHA", "00V20")]

# mdc, name, [(icd, category no)], category 1 CC-capable, [surgical procedures], weight scale
MDCS = [
    ("01", "Nervous system", [("G409", 1), ("I639", 1), ("G35", 5), ("G439", 2), ("G20", 2)], ["ABC10", "AAA20"], 1.4),
    ("02", "Eye", [("H269", 1), ("H353", 4), ("H401", 2)], ["CJE20", "CKD60"], 0.8),
    (
        "03",
        "Ear, nose, mouth and throat",
        [("J019", 1), ("H669", 2), ("J350", 3), ("Q379", 2)],
        ["DCA20", "EMB10"],
        0.8,
    ),
    ("04", "Respiratory system", [("J189", 1), ("J441", 1), ("C349", 2), ("J459", 2)], ["GDB00", "GEB00"], 1.2),
    ("05", "Circulatory system", [("I219", 1), ("I509", 1), ("I480", 2), ("I10", 2)], ["FNG05", "FPE96"], 1.5),
    (
        "06",
        "Digestive system",
        [("K359", 1), ("K509", 5), ("K519", 5), ("K291", 2), ("C189", 2)],
        ["JEA01", "JFB20"],
        1.3,
    ),
    ("07", "Hepatobiliary system and pancreas", [("K802", 1), ("K859", 1), ("K703", 2)], ["JKA21", "JLC30"], 1.3),
    (
        "08",
        "Musculoskeletal system",
        [("M161", 1), ("S720", 1), ("M059", 5), ("M069", 5), ("M45", 5), ("M545", 2)],
        ["NFB40", "NGB20"],
        1.6,
    ),
    (
        "09",
        "Skin and breast",
        [("L031", 1), ("C439", 1), ("L409", 5), ("C509", 2), ("E660", 3)],
        ["QBB10", "HAB40"],
        1.0,
    ),
    ("10", "Endocrine and metabolic", [("E119", 1), ("E109", 1), ("E039", 2)], ["BAA10", "JDF10"], 1.0),
    ("11", "Kidney and urinary tract", [("N390", 1), ("N185", 3), ("N200", 2), ("Z491", 3)], ["KAC20", "KCD00"], 1.1),
    ("12", "Male reproductive system", [("N40", 1), ("C61", 1), ("N433", 2)], ["KED22", "KFH50"], 1.0),
    ("13", "Female reproductive system", [("N812", 1), ("D259", 1), ("N979", 2)], ["LCD10", "LAF11"], 1.0),
    (
        "14",
        "Pregnancy and childbirth",
        [("O800", 1), ("O829", 1), ("O149", 2), ("O200", 2), ("Z348", 2)],
        ["MCA10", "MBA00"],
        1.2,
    ),
    ("15", "Newborns", [("P073", 1), ("P599", 2), ("Z380", 2)], ["QAA00", "JAH00"], 2.0),
    ("16", "Blood and immune system", [("D509", 1), ("D693", 1), ("D649", 2)], ["PJD10", "PJA10"], 0.9),
    ("17", "Myeloproliferative diseases", [("C919", 1), ("C833", 1), ("C900", 2)], ["PJD50", "PBA00"], 2.2),
    ("18", "Infections", [("A419", 1), ("B349", 2), ("A150", 2)], ["QAB00", "TJA10"], 1.3),
    ("19", "Mental illness (somatic)", [("F329", 1), ("F419", 2), ("F03", 2)], ["ZXA00", "ZXB00"], 0.9),
    ("20", "Substance use (somatic)", [("F102", 1), ("F112", 1), ("F190", 2)], ["ZXC00", "ZXD00"], 0.8),
    ("21", "Injuries and poisoning", [("T781", 1), ("T391", 1), ("S060", 2)], ["QDB00", "TNX30"], 1.0),
    ("22", "Burns", [("T203", 1), ("T300", 2)], ["QAG00", "QBG00"], 2.5),
    ("23", "Factors influencing health", [("Z099", 1), ("Z511", 2), ("Z348", 3), ("Z760", 2)], ["ZXE00", "ZXF00"], 0.5),
    ("40", "Special groups", [("Z510", 1), ("Z515", 2)], ["WEOC10", "ZXG00"], 1.0),
]
# PHV/TSB main conditions (somatic mapping of the same codes is via MDC 19/20 above)
CC_CODES = [("E870", "10C01"), ("J969", "04G01"), ("N179", "11C02"), ("I500", "05C03"), ("A418", "18G01")]


def generated_drgs():
    """(mdc, base, scale) per MDC: DRGs base+A/B/O surgical, base+1 A/B medical, base+2 medical, 9mdcX outpatient."""
    return [(m, 600 + 8 * i, scale) for i, (m, _n, _d, _p, scale) in enumerate(MDCS)]


def build(year: int):
    dg, proc, logic, names, weights = [], [], [], [], []

    def drg(code, mdc, name, weight, trim=0, per_day=0.0, acute_factor=1.0):
        names.append({"drg": code, "mdc": mdc, "loc_drg (link to ndms)": ""})
        weights.append(
            {
                "drg": code,
                "name": name,
                "weight": f"{weight:.3f}",
                "trim_days": str(trim),
                "per_day_weight": f"{per_day:.3f}",
                "acute_factor": f"{acute_factor:.2f}",
            }
        )

    def rule(ord_, drg_, rtc="0", **cells):
        row = {c: "" for c in ("ord", "drg", "rtc", *LOGIC_COLUMNS)}
        row.update({"ord": ord_, "drg": drg_, "rtc": rtc, **cells})
        logic.append(row)

    def dgrow(code, vartype, value, d_code=""):
        dg.append({"code": code, "d_code": d_code, "vartype": vartype, "varval": value})

    def procrow(code, vartype, value):
        proc.append({"code": code, "vartype": vartype, "varval": value})

    # 2026 changes the seeds name, switched by year
    y26 = year >= 2026
    drift = (lambda i: 1.0 + ((i * 37) % 9 - 4) / 200.0) if y26 else (lambda i: 1.0)

    for code, prop in MARKERS:
        procrow(code, "PROCPR", prop)

    # --- diagnoses and procedures per MDC
    for m, _name, dxs, sprocs, _scale in MDCS:
        for icd, cat in dxs:
            dgrow(icd, "DGCAT", f"{m}M{cat:02d}")
            dgrow(icd, "MDC", m)
            dgrow(icd, "DGPROP", f"{m}X99")
        for p in sprocs:
            procrow(p, "PROCPR", f"{m}S01")
            procrow(p, "OR", "1")
    for icd, compl in CC_CODES:
        dgrow(icd, "COMPL", compl)
        dgrow(icd, "DGCAT", f"{compl[:2]}M09")
        dgrow(icd, "MDC", compl[:2])
    # seed 000 ("DRG-, STG- og TFG-logikkendringer", 2026): "T85.0 ... får egenskaper tilknyttet HDG 01",
    # "Z94.8 ... får egenskaper tilknyttet HDG 23"; their 2025 groups (21, 16) are illustrative
    for icd, hdg_2025, hdg_2026 in (("T850", "21", "01"), ("Z948", "16", "23")):
        m = hdg_2026 if y26 else hdg_2025
        dgrow(icd, "DGCAT", f"{m}M02")
        dgrow(icd, "MDC", m)
        dgrow(icd, "DGPROP", f"{m}X99")
    # external causes may not be principal
    for icd in ("V892", "W199", "X599"):
        dgrow(icd, "DGCAT", "99M00")
        dgrow(icd, "MDC", "99")
    # PHV / TSB conditions
    for icd in ("F200", "F322", "F900", "F431", "F602"):
        dgrow(icd, "DGCAT", "19M01")
        dgrow(icd, "MDC", "19")
    for icd in ("F100", "F112", "F122", "F152"):
        dgrow(icd, "DGCAT", "20M01")
        dgrow(icd, "MDC", "20")

    # special procedures named in the seeds
    specials = [
        ("EMB10", "03S60"),
        ("EMB15", "03S60"),
        ("FPB32", "05S12"),
        ("QBJ10", "09S30"),
        ("QBJ20", "09S31"),
        ("LAF11", "13S61"),
        ("LGA11", "13S62"),
        ("MCA10", "14S10"),
        ("JAH01", "15S20"),
        ("KAS00", "11T01"),
        ("CKD05", "02T05"),
        ("WBGM20", "00T40"),
        ("WPBA25", "19T25"),
        ("WEOC00", "40T53"),
        ("WEGX90", "40T53"),
        ("WBOC20", "17T12"),
        ("WEOA10", "40T50"),
    ]
    for p, prop in specials:
        procrow(p, "PROCPR", prop)
    if y26:
        procrow("WBGM10", "PROCPR", "00T40")  # subcutaneous injection gets the in-hospital drug property
        # seed 000: "Legemiddelet L04AC05 Ustekinumab gis egenskap PROCPR 90O10 Specific biological drug
        # treatment" (a drug's ATC code reaches the grouper as a procedure code, `isf.grouping.mapping`)
        procrow("L04AC05", "PROCPR", "90O10")
    procrow("DJD00", "PROCPR", "03S55")  # an illustrative "diverse" ENT operation (DRG 55/55O)
    procrow("DJD00", "OR", "1")

    # --- logic: checks first
    drg("470", "", "Ugyldig hovedtilstand / ikke grupperbar", 0.0)
    drg("477", "", "OR-prosedyre uten relasjon til hovedtilstand", 1.0, 10, 0.08)
    rule("000D000010", "470", "1", icd="-")
    rule("000D004010", "470", "1", icd="+", dgcat1="99M00")

    # PHV/TSB (outpatient via marker): relatives (2026), indirect not DRG-grouped, inpatient 0 points
    drg("TP10A", "19", "PHV poliklinisk konsultasjon", 0.080 * drift(1))
    drg("TT10A", "20", "TSB poliklinisk konsultasjon", 0.085 * drift(2))
    drg("TP99I", "19", "PHV døgnopphold (rammefinansiert)", 0.0)
    drg("TT99I", "20", "TSB døgnopphold (rammefinansiert)", 0.0)
    if y26:
        drg("TD96A", "19", "Konsultasjon med pårørende, PHV", 0.070)
        drg("TD96B", "20", "Konsultasjon med pårørende, TSB", 0.070)
        rule("010D000100", "TD96A", icd="+", procpro1="00V10", secproc1="19T25")
        rule("010D000200", "TD96B", icd="+", procpro1="00V11", secproc1="19T25")
    rule("010D000300", "TP10A", icd="+", procpro1="00V10", dur="<1")
    rule("010D000310", "TT10A", icd="+", procpro1="00V11", dur="<1")
    rule("010D000400", "TP99I", icd="+", procpro1="00V10")
    rule("010D000410", "TT99I", icd="+", procpro1="00V11")

    # seed-named outpatient specials
    drg(
        "801H",
        "01",
        "Poliklinisk behandling av nevrologiske lidelser med "
        + ("særskilte legemidler" if y26 else "infusjon av særskilte legemidler"),
        0.180 * drift(3),
    )
    drg(
        "806H",
        "06",
        "Poliklinisk behandling av mage-tarmlidelser med "
        + ("særskilte legemidler" if y26 else "infusjon av særskilte legemidler"),
        0.175 * drift(4),
    )
    drg(
        "808H",
        "08",
        "Poliklinisk behandling av revmatologiske lidelser med særskilte legemidler"
        if y26
        else "Polikl behandling av revmatologiske lidelser med infusjon av særskilte legemidler",
        0.170 * drift(5),
    )
    drg(
        "809H",
        "09",
        "Poliklinisk behandling av hudlidelser med "
        + ("særskilte legemidler" if y26 else "infusjon av særskilte legemidler"),
        0.160 * drift(6),
    )
    rule("100D000801", "801H", icd="+", dgcat1="01M05", procpro1="00T40", dur="<1")
    rule("100D000806", "806H", icd="+", dgcat1="06M05", procpro1="00T40", dur="<1")
    rule("100D000808", "808H", icd="+", dgcat1="08M05", procpro1="00T40", dur="<1")
    rule("100D000809", "809H", icd="+", dgcat1="09M05", procpro1="00T40", dur="<1")
    # biological drug treatment (PROCPR 90O10) of the gastro, rheumatology and skin indications: the same
    # outpatient drug DRGs (illustrative rows; which codes carry 90O10 is what changes by year)
    for m, code in (("06", "806H"), ("08", "808H"), ("09", "809H")):
        rule(f"100D001{code[:3]}", code, icd="+", dgcat1=f"{m}M05", procpro1="90O10", dur="<1")
    drg("802U", "02", "Poliklinisk behandling av AMD og makulaødem med lokal medikasjon", 0.178 * drift(7))
    rule("100D000802", "802U", icd="+", mdc="02", procpro1="02T05", dur="<1")
    drg("317O", "11", "Dialysebehandling, dagmedisinsk behandling", 0.110 * drift(8))
    rule("100D000317", "317O", icd="+", procpro1="11T01", dur="<1")
    # outpatient radiotherapy (photons), one contact per fraction: a member of the radiotherapy-series pathway
    drg("409X", "40", "Poliklinisk strålebehandling", 0.160 * drift(14))
    rule("100D000409", "409X", icd="+", procpro1="40T50", dur="<1")
    if y26:
        drg("853X", "40", "Poliklinisk strålebehandling med protoner", 0.420)
        rule("100D000853", "853X", icd="+", procpro1="40T53", dur="<1")

    # day-surgery solution pairs (2026: day and inpatient pay the same)
    def pair_weights(day_w, inp_w):
        return (inp_w, inp_w) if y26 else (day_w, inp_w)

    d60, i60 = pair_weights(0.55, 0.80)
    drg("60N", "03", "Operasjoner på tonsiller eller adenoid vev 0-17 år", i60, 5, 0.10)
    drg("59N", "03", "Operasjoner på tonsiller eller adenoid vev >17 år", i60 if y26 else 0.85, 5, 0.10)
    drg("60O", "03", "Operasjoner på tonsiller og/eller adenoid vev, dagkirurgisk behandling", d60)
    rule("100D036000", "60O", icd="+", procpro1="03S60", dur="<1")
    rule("400D060000", "60N", icd="+", procpro1="03S60", agelim="<6575")
    rule("400D059000", "59N", icd="+", procpro1="03S60", agelim=">6574")
    # seed 000, 2026: the rules of 59N, 60N and 60O "flyttes over DRG 55/O Diverse operasjoner på
    # øre/nese/hals/ -dagkirurgisk behandling": an operation with both a tonsil procedure and another ENT
    # procedure groups to 55/55O in 2025 (55's rows first) and to 59N/60N/60O in 2026 (the tonsil rows first)
    drg("55", "03", "Diverse operasjoner på øre/nese/hals", 0.95 * drift(18), 5, 0.10)
    drg("55O", "03", "Diverse operasjoner på øre/nese/hals, dagkirurgisk behandling", 0.60 * drift(18))
    rule("100D036500" if y26 else "100D035500", "55O", icd="+", procpro1="03S55", dur="<1")
    rule("400D060500" if y26 else "400D055000", "55", icd="+", procpro1="03S55")
    d112, i112 = pair_weights(1.60, 2.10)
    drg("112B", "05", "Perkutan ablasjonsbehandling for hjertearytmi", i112, 6, 0.15)
    drg("112P", "05", "Perkutan ablasjonsbehandling for hjertearytmi, dagbehandling", d112)
    rule("100D011200", "112P", icd="+", procpro1="05S12", dur="<1")
    rule("400D011200", "112B", icd="+", procpro1="05S12")
    d530, i530 = pair_weights(1.10, 2.40)
    drg("530", "09", "Større plastikkirurgi etter stort vekttap (inkl postbariatrisk kirurgi)", i530, 8, 0.12)
    drg(
        "531",
        "09",
        "Annen plastikkirurgi etter stort vekttap (inkl postbariatrisk kirurgi)",
        i530 if y26 else 1.50,
        6,
        0.12,
    )
    drg("530O", "09", "Plastikkirurgi etter stort vekttap, dagkirurgisk behandling", d530)
    rule("100D053000", "530O", icd="+", procpro1="09S30", dur="<1")
    rule("100D053010", "530O", icd="+", procpro1="09S31", dur="<1")
    rule("400D053000", "530", icd="+", procpro1="09S30")
    rule("400D053100", "531", icd="+", procpro1="09S31")
    d361, i361 = pair_weights(0.75, 1.30)
    drg("361", "13", "Gynekologisk laparoskopi" + ("" if y26 else " og sterilisering via laparotomi"), i361, 5, 0.10)
    drg(
        "361O",
        "13",
        "Gynekologisk laparoskopi"
        + (", dagkirurgisk behandling" if y26 else " og sterilisering via laparotomi, dagkirurgisk behandling"),
        d361,
    )
    sterilisation = (
        "Sterilisering av kvinner" if y26 else "Sterilisering via laparoskopi eller annen endoskopisk sterilisering"
    )
    drg("362", "13", sterilisation, 0.90 * drift(9), 4, 0.10)
    drg("362O", "13", f"{sterilisation}, dagkirurgisk behandling", 0.45 * drift(9))
    rule("100D036100", "361O", icd="+", procpro1="13S61", dur="<1")
    rule("100D036200", "362O", icd="+", procpro1="13S62", dur="<1")
    rule("400D036100", "361", icd="+", procpro1="13S61")
    rule("400D036200", "362", icd="+", procpro1="13S62")

    # births (MDC 14): 2026 day births pay as uncomplicated vaginal births
    drg("370", "14", "Keisersnitt med komplikasjoner", 2.10 * drift(10), 9, 0.12)
    drg("371", "14", "Keisersnitt uten komplikasjoner", 1.50 * drift(10), 7, 0.12)
    drg("372", "14", "Vaginal fødsel med kompliserende diagnose", 0.95 * drift(11), 6, 0.10)
    drg("373", "14", "Vaginal fødsel uten kompliserende diagnose", 0.62 * drift(11), 5, 0.10)
    drg("373O", "14", "Vaginal fødsel, dagfødsel", 0.62 * drift(11) if y26 else 0.42)
    rule("400D037000", "370", icd="+", mdc="14", procpro1="14S10", compl="1")
    rule("400D037100", "371", icd="+", mdc="14", procpro1="14S10")
    rule("100D037300", "373O", icd="+", dgcat1="14M01", dur="<1")
    rule("400D037200", "372", icd="+", dgcat1="14M01", compl="1")
    rule("400D037300", "373", icd="+", dgcat1="14M01")

    drg(
        "389A",
        "15",
        "Nyfødt, med større operasjon" if y26 else "Nyfødt, fødselsvekt 1500 g eller mer, med større operasjon",
        6.80 * drift(12),
        25,
        0.20,
    )
    rule("400D038900", "389A", icd="+", mdc="15", procpro1="15S20")
    if y26:
        drg("412A", "17", "Transfusjon av genmodifiserte autologe lymfocytter", 38.5, 30, 0.35)
        rule("400D041200", "412A", icd="+", mdc="17", procpro1="17T12")

    # 980-DRGs: short acute stays (inpatient, under one day, acute marker); 2025's point deduction for some of
    # them is a rule of its own (`drg_deductions` in params.json), not an acute factor on every acute case
    for k, (m, letter) in enumerate([("01", "A"), ("04", "B"), ("05", "C"), ("06", "D"), ("21", "E")]):
        drg(f"980{letter}", m, f"Øyeblikkelig hjelp, kort opphold, HDG {m}", 0.30 * drift(13 + k))
        rule(
            f"398D0980{letter}0",
            f"980{letter}",
            icd="+",
            mdc=m,
            procpro1="00V20",
            dur="<1",
            **{"or": "N", "secproc1": "-00V03"},
        )

    # generated core: per MDC surgical A/B/O, medical A/B, medical other, outpatient X
    for i, ((m, name, _dx, _p, scale), (_m, base, _s)) in enumerate(zip(MDCS, generated_drgs())):
        s, med, oth = str(base), str(base + 1), str(base + 2)
        f = drift(20 + i)
        drg(f"{s}O", m, f"{name}: operasjon, dagkirurgisk behandling", 0.55 * scale * f)
        drg(f"{s}A", m, f"{name}: operasjon med bidiagnoser", 2.40 * scale * f, 14, 0.09)
        drg(f"{s}B", m, f"{name}: operasjon uten bidiagnoser", 1.50 * scale * f, 10, 0.09)
        drg(f"{med}A", m, f"{name}: medisinsk behandling med bidiagnoser", 1.10 * scale * f, 12, 0.07)
        drg(f"{med}B", m, f"{name}: medisinsk behandling uten bidiagnoser", 0.70 * scale * f, 9, 0.07)
        drg(oth, m, f"{name}: andre medisinske tilstander", 0.55 * scale * f, 8, 0.07)
        drg(f"9{m}X", m, f"{name}: poliklinisk konsultasjon", 0.050 * scale * f)
        rule(f"1{m}D{base}00", f"{s}O", icd="+", mdc=m, **{"or": "S"}, procpro1=f"{m}S01", dur="<1")
        rule(f"1{m}D{base}90", f"9{m}X", icd="+", mdc=m, procpro1="00V03", dur="<1")
        rule(f"4{m}D{base}10", f"{s}A", icd="+", mdc=m, **{"or": "S"}, procpro1=f"{m}S01", compl="1")
        rule(f"4{m}D{base}20", f"{s}B", icd="+", mdc=m, **{"or": "S"}, procpro1=f"{m}S01")
        rule(f"4{m}D{base}25", "477", "7", icd="+", mdc=m, **{"or": "S"})
        rule(f"4{m}D{base}30", f"{med}A", icd="+", mdc=m, dgcat1=f"{m}M01", compl="1")
        rule(f"4{m}D{base}40", f"{med}B", icd="+", mdc=m, dgcat1=f"{m}M01")
        rule(f"4{m}D{base}50", oth, icd="+", mdc=m)
    rule("999D002", "470", "8")
    logic.sort(key=lambda r: r["ord"])
    return {
        "dg": dg,
        "proc": proc,
        "drglogic": logic,
        "drgnames": names,
        "complcat": [{"compl": c, "inclprop": ""} for _i, c in CC_CODES]
        + [{"compl": c[:2] + "G" + c[3:], "inclprop": ""} for _i, c in CC_CODES],
        "complexcl": [{"compl": c, "code": icd, "d_code": ""} for icd, c in CC_CODES],
    }, weights


def write(year: int) -> None:
    tables, weights = build(year)
    folder = OUT / str(year) / "definitions"
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    with (OUT / str(year) / "weights.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(weights[0]))
        w.writeheader()
        w.writerows(weights)


if __name__ == "__main__":
    for y in (2025, 2026):
        write(y)
        print(f"wrote {OUT / str(y)}")
