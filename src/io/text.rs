//! Plain-text renderings for the terminal: `keel show`, `keel check`, `keel escalations`, `keel log`.
//! Each public renderer's output passes [`printable`]: stored text is never played by a terminal.

use crate::domain::rollup::TargetGap;
use crate::domain::settings::SettingProblem;
use crate::domain::Num;
use crate::store::audit::Row;
use crate::store::check::{Alignment, CheckReport, FunnelRow, Gaps, LateMilestone, StaleItem, StatusItem};
use crate::store::read::{Detail, EscalationRow};
use std::fmt::Write;

fn opt(n: Option<Num>) -> String {
    n.map(|x| x.grouped()).unwrap_or_else(|| "—".into())
}

pub fn detail(d: &Detail) -> String {
    printable(detail_raw(d))
}

fn detail_raw(d: &Detail) -> String {
    let mut s = String::new();
    if let Some(r) = &d.retired {
        let by = r.by.as_deref().map(|b| format!(" by {b}")).unwrap_or_default();
        let _ = writeln!(s, "RETIRED since {}{by}: {}", r.at, r.reason);
    }
    let _ = writeln!(s, "{} {}  ({}, version {})", d.key, d.title, d.kind, d.version);
    let st = &d.status;
    let mut line = format!("status: {}", st.rag.label());
    if let Some(p) = st.progress {
        let _ = write!(line, "   progress {}", p.percent());
    }
    if let Some(stage) = st.stage {
        let _ = write!(line, "   stage {stage}");
    }
    if let Some(side) = st.side_state {
        let _ = write!(line, " ({side})");
    }
    if st.stale {
        line.push_str("   STALE");
    }
    if st.flagged {
        line.push_str("   FLAG: green without explanation");
    }
    let _ = writeln!(s, "{line}");
    if let Some(m) = &d.measure {
        let imp = if m.implementation.detail.is_empty() { String::new() } else { format!(" — {}", m.implementation.detail) };
        let _ = writeln!(s, "implementation: {}{imp}", m.implementation.level.label());
        let _ = writeln!(
            s,
            "potential: {}   planned {}  forecast {}  actual {}  ({})",
            m.potential.label(),
            crate::io::report::num(m.shown_money.planned),
            crate::io::report::num(m.shown_money.forecast),
            crate::io::report::num(m.shown_money.actual),
            m.value_type
        );
    }
    if let Some(k) = &d.key_result {
        if let Some(score) = k.score {
            let held = score.held.map(|h| format!("; {h}")).unwrap_or_default();
            let _ = writeln!(s, "score: {} ({}; raw {}{held})", score.grade.round_dp(2), score.zone.label(), score.raw.round_dp(3));
        }
        if !k.at_risk.is_empty() {
            let _ = writeln!(s, "at risk: {}", k.at_risk.join(", "));
        }
    }
    if let Some(k) = &d.kpi {
        let _ =
            writeln!(s, "{} KPI, {} is better; latest {} against target {}", k.ipo_class, k.direction, opt(k.latest_actual), opt(k.target));
        if !k.missing.is_empty() {
            let _ = writeln!(s, "incomplete: missing {}", k.missing.join(", "));
        }
    }
    if let Some(g) = &d.target_gap {
        let _ = writeln!(s, "top-down target {}  bottom-up {}  gap {}", g.target.grouped(), g.bottom_up.grouped(), g.gap.grouped());
    }
    let mut group = "";
    for f in &d.fields {
        if f.group != group {
            group = f.group;
            let _ = writeln!(s, "\n[{group}]");
        }
        let _ = writeln!(s, "  {:<20} {}", f.name, f.value.as_deref().unwrap_or("—"));
    }
    if let Some(g) = &d.gate {
        let _ = writeln!(s, "\n[gate]");
        let _ = writeln!(
            s,
            "  stage                {}{}",
            g.stage,
            g.side_state.map(|x| format!(" ({x}: {})", g.side_reason.clone().unwrap_or_default())).unwrap_or_default()
        );
        if let Some(p) = g.pending {
            let _ = writeln!(s, "  requested            {p}; awaiting {}", g.awaiting.join(" and "));
        }
        if let Some(n) = g.next {
            if g.next_missing.is_empty() {
                let _ = writeln!(s, "  next                 {n}: ready to request");
            } else {
                let _ = writeln!(s, "  next                 {n} still needs:");
                for m in &g.next_missing {
                    let _ = writeln!(s, "    - {m}");
                }
            }
        }
    }
    if !d.milestones.is_empty() {
        let _ = writeln!(s, "\n[milestones]");
        for m in &d.milestones {
            let state = match (&m.done, m.overdue_days) {
                (Some(done), _) => format!("done {done}"),
                (None, Some(days)) => format!("LATE by {days} days"),
                (None, None) => "open".into(),
            };
            let _ = writeln!(s, "  {}. {} — due {} — {state}", m.number, m.title, m.due);
        }
    }
    if !d.depends_on.is_empty() {
        let _ = writeln!(s, "\n[waits for]");
        for l in &d.depends_on {
            let _ = writeln!(s, "  {}", l.label());
        }
    }
    if !d.serves.is_empty() {
        let _ = writeln!(s, "\n[serves]");
        for l in &d.serves {
            let _ = writeln!(s, "  {}", l.label());
        }
    }
    if !d.served_by.is_empty() {
        let _ = writeln!(s, "\n[served by]");
        for l in &d.served_by {
            let _ = writeln!(s, "  {}", l.label());
        }
    }
    if !d.funnel.is_empty() {
        let _ = writeln!(s, "\n[value funnel]            planned        forecast          actual");
        for (stage, m) in &d.funnel {
            let _ =
                writeln!(s, "  {:<14} {:>15} {:>15} {:>15}", stage.as_str(), m.planned.grouped(), m.forecast.grouped(), m.actual.grouped());
        }
    }
    if !d.values.is_empty() {
        let _ = writeln!(s, "\n[values]  period         planned        forecast          actual   version");
        for v in &d.values {
            let _ = writeln!(
                s,
                "          {:<9} {:>13} {:>15} {:>15}   {}{}",
                v.period,
                opt(v.planned),
                opt(v.forecast),
                opt(v.actual),
                v.version,
                reported(v) + &super::signals_text::origin(v)
            );
        }
    }
    super::signals_text::write(&d.signals, &mut s);
    if let Some(e) = &d.escalation {
        let _ = writeln!(
            s,
            "\n[escalation {}] {} — {} (assigned to {}, due {})",
            e.id,
            e.tier_label,
            e.reason,
            e.assignee.clone().unwrap_or(e.assignee_role.clone()),
            &e.due_at[..10.min(e.due_at.len())]
        );
    }
    if !d.decisions.is_empty() {
        let _ = writeln!(s, "\n[decisions]");
        for dec in &d.decisions {
            let _ = writeln!(s, "  {} {}: {}", &dec.at[..10.min(dec.at.len())], dec.by, dec.text);
        }
    }
    if !d.audit.is_empty() {
        let _ = writeln!(s, "\n[recent changes]");
        for r in &d.audit {
            let _ = writeln!(s, "  {}", log_line(r));
        }
    }
    s
}

pub fn escalations(rows: &[EscalationRow]) -> String {
    printable(escalations_raw(rows))
}

fn escalations_raw(rows: &[EscalationRow]) -> String {
    let mut s = String::new();
    let _ = write_escalations(rows, &mut s);
    s
}

fn write_escalations(rows: &[EscalationRow], s: &mut impl Write) -> std::fmt::Result {
    if rows.is_empty() {
        return s.write_str(NO_ESCALATIONS);
    }
    escalations_header(s)?;
    for e in rows {
        escalation_line(e, s)?;
    }
    Ok(())
}

pub fn escalations_header(s: &mut impl Write) -> std::fmt::Result {
    writeln!(s, "{:>4}  {:<19} {:<6} {:<34} {:<18} {:>9} {:>3}  {:<10}", "id", "tier", "key", "title", "owner", "variance", "out", "due")
}

pub fn escalation_line(e: &EscalationRow, s: &mut impl Write) -> std::fmt::Result {
    let var = e.relative.map(crate::domain::escalation::relative_percent).unwrap_or_else(|| e.gap.grouped());
    let due = format!("{}{}", &e.due_at[..10.min(e.due_at.len())], if e.overdue { " OVERDUE" } else { "" });
    writeln!(
        s,
        "{:>4}  {:<19} {:<6} {:<34} {:<18} {:>9} {:>3}  {}",
        e.id,
        e.tier_label,
        e.key,
        truncate(&e.title, 34),
        truncate(e.owner.as_deref().unwrap_or("—"), 18),
        var,
        e.periods_out,
        due
    )
}

/// Stored text as a terminal may show it: control characters other than newline and tab escaped
/// (the write path refuses them; this is for anything already in a file).
/// A value that came with a plan: who reported it and when, apart from who entered it (the
/// importer, as the audit log says).
fn reported(v: &crate::store::read::ValueRow) -> String {
    match (&v.reported_by, &v.reported_at) {
        (Some(by), Some(at)) => {
            format!("   reported by {by} {}, entered by {} {}", at.get(..10).unwrap_or(at), v.by, v.at.get(..10).unwrap_or(&v.at))
        }
        _ => String::new(),
    }
}

pub fn printable(s: String) -> String {
    match crate::domain::text_check::printable(&s) {
        std::borrow::Cow::Borrowed(_) => s,
        std::borrow::Cow::Owned(clean) => clean,
    }
}

pub fn truncate(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(width.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

pub fn log_line(r: &Row) -> String {
    printable(log_line_raw(r))
}

fn log_line_raw(r: &Row) -> String {
    let what = match (&r.entry.old_value, &r.entry.new_value) {
        (Some(o), Some(n)) => format!("{o} → {n}"),
        (None, Some(n)) => format!("→ {n}"),
        (Some(o), None) => format!("{o} → (cleared)"),
        (None, None) => String::new(),
    };
    let reason = r.entry.reason.as_ref().map(|x| format!("  ({x})")).unwrap_or_default();
    format!("{} {:<10} {:<6} {} {what}{reason}", r.at, r.actor, r.entry.item_key, r.entry.field)
}

pub fn log(rows: &[Row]) -> String {
    rows.iter().map(|r| log_line(r) + "\n").collect()
}

pub fn check(r: &CheckReport) -> String {
    let mut s = String::new();
    let _ = write_check(r, &mut s);
    s
}

/// Passes text on as [`printable`] makes it, piece by piece (the escaping is per character, so
/// pieces come out as the whole would), for renderings written out as they are made.
pub struct Printable<W>(pub W);

impl<W: Write> Write for Printable<W> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        match crate::domain::text_check::printable(s) {
            std::borrow::Cow::Borrowed(s) => self.0.write_str(s),
            std::borrow::Cow::Owned(clean) => self.0.write_str(&clean),
        }
    }
}

/// `keel check` as text, written row by row into `out` (escaped as [`printable`] does), so a
/// large file's report is never gathered into one string first. The same row renderings as the
/// streamed `keel check` (io/check_out.rs), which writes each list as it is computed.
pub fn write_check(r: &CheckReport, out: &mut impl Write) -> std::fmt::Result {
    let s = &mut Printable(out);
    check_head(&r.today, &r.settings_errors, r.escalations_by_tier, s)?;
    if r.escalations.is_empty() {
        s.write_str(NO_ESCALATIONS)?;
    } else {
        escalations_header(s)?;
    }
    for e in &r.escalations {
        escalation_line(e, s)?;
    }
    stale_head(r.stale.len(), s)?;
    for x in &r.stale {
        stale_line(x, s)?;
    }
    late_head(r.late_milestones.len(), s)?;
    for x in &r.late_milestones {
        late_line(x, s)?;
    }
    implementation_head(r.implementation.len(), s)?;
    for x in &r.implementation {
        implementation_line(x, s)?;
    }
    potential_head(r.potential.len(), s)?;
    for x in &r.potential {
        potential_line(x, s)?;
    }
    at_risk_head(r.at_risk_key_results.len(), s)?;
    for x in &r.at_risk_key_results {
        item_line(x, s)?;
    }
    unexplained_head(r.green_without_explanation.len(), s)?;
    for x in &r.green_without_explanation {
        item_line(x, s)?;
    }
    alignment(&r.alignment, s)?;
    s.write_str(OUTCOME_ONLY)?;
    join_keys(r.outcome_only_objectives.iter().map(String::as_str), s)?;
    s.write_str(ISOLATED)?;
    join_keys(r.isolated_kpis.iter().map(String::as_str), s)?;
    incomplete_head(r.incomplete_kpis.len(), s)?;
    for g in &r.incomplete_kpis {
        gaps_line(g, s)?;
    }
    not_executable_head(r.not_executable.len(), s)?;
    for g in &r.not_executable {
        gaps_line(g, s)?;
    }
    funnel_head(s)?;
    for f in &r.funnel {
        funnel_line(f, s)?;
    }
    for t in &r.objective_targets {
        objective_target_line(t, s)?;
    }
    Ok(())
}

/// "none", or the keys separated by ", ", then the end of the line.
fn join_keys<'a>(keys: impl Iterator<Item = &'a str>, s: &mut impl Write) -> std::fmt::Result {
    let mut any = false;
    for k in keys {
        if any {
            s.write_str(", ")?;
        }
        s.write_str(k)?;
        any = true;
    }
    s.write_str(if any { "\n" } else { "none\n" })
}

// The pieces of `keel check` as text, each one list's heading or one row, for `write_check` and
// the streamed rendering alike (callers wrap the writer in [`Printable`]).

pub const NO_ESCALATIONS: &str = "no open escalations\n";
pub const OUTCOME_ONLY: &str = "  outcome-only objectives: ";
pub const ISOLATED: &str = "  isolated KPIs: ";

pub fn check_head(today: &str, errors: &[SettingProblem], t: [usize; 3], s: &mut impl Write) -> std::fmt::Result {
    writeln!(s, "keel check — {today}")?;
    if !errors.is_empty() {
        writeln!(
            s,
            "\nSETTINGS ERRORS ({}) — the default is used for each until it is fixed with `keel settings NAME VALUE`",
            errors.len()
        )?;
        for p in errors {
            writeln!(s, "  ERROR {p}")?;
        }
    }
    writeln!(s, "\nESCALATIONS  steering committee {}  sponsor action {}  owner review {}", t[2], t[1], t[0])
}

pub fn stale_head(n: usize, s: &mut impl Write) -> std::fmt::Result {
    writeln!(s, "\nSTALE (no update within the cadence) ({n})")
}

pub fn stale_line(x: &StaleItem, s: &mut impl Write) -> std::fmt::Result {
    writeln!(
        s,
        "  {:<6} {} — owner {}, last update {} ({} days, {})",
        x.key,
        x.title,
        x.owner.as_deref().unwrap_or("—"),
        x.last_update.as_deref().map(|d| &d[..10.min(d.len())]).unwrap_or("never"),
        x.days_since_update.map(|d| d.to_string()).unwrap_or("—".into()),
        x.cadence
    )
}

pub fn late_head(n: usize, s: &mut impl Write) -> std::fmt::Result {
    writeln!(s, "\nLATE MILESTONES ({n})")
}

pub fn late_line(x: &LateMilestone, s: &mut impl Write) -> std::fmt::Result {
    writeln!(s, "  {:<6} {} — due {}, {} days overdue", x.key, x.milestone, x.due, x.days_overdue)
}

pub fn implementation_head(n: usize, s: &mut impl Write) -> std::fmt::Result {
    writeln!(s, "\nIMPLEMENTATION (late or critical) ({n})")
}

pub fn implementation_line(x: &StatusItem, s: &mut impl Write) -> std::fmt::Result {
    writeln!(s, "  {:<6} {:<9} {} — {}", x.key, x.status, x.title, x.detail)
}

pub fn potential_head(n: usize, s: &mut impl Write) -> std::fmt::Result {
    writeln!(s, "\nPOTENTIAL (amber or red) ({n})")
}

pub fn potential_line(x: &StatusItem, s: &mut impl Write) -> std::fmt::Result {
    writeln!(s, "  {:<6} {:<6} {} — {}", x.key, x.status, x.title, x.detail)
}

pub fn at_risk_head(n: usize, s: &mut impl Write) -> std::fmt::Result {
    writeln!(s, "\nKEY RESULTS AT RISK ({n})")
}

pub fn unexplained_head(n: usize, s: &mut impl Write) -> std::fmt::Result {
    writeln!(s, "\nGREEN WITHOUT EXPLANATION ({n})")
}

/// A key result at risk, or an item green without explanation.
pub fn item_line(x: &StatusItem, s: &mut impl Write) -> std::fmt::Result {
    writeln!(s, "  {:<6} {} — {}", x.key, x.title, x.detail)
}

/// The alignment section and the IPO checks' heading.
pub fn alignment(a: &Alignment, s: &mut impl Write) -> std::fmt::Result {
    writeln!(
        s,
        "\nALIGNMENT  {} of {} objectives cascaded from a parent ({}){}",
        a.cascaded,
        a.objectives,
        a.cascade_share.map(|x| x.percent()).unwrap_or("—".into()),
        match a.ceiling {
            Some(c) if a.above_ceiling => format!(" — ABOVE the ceiling of {}", c.percent()),
            Some(c) => format!(" — within the ceiling of {}", c.percent()),
            None => String::new(),
        }
    )?;
    if !a.trend.is_empty() {
        writeln!(s, "  trend: {}", a.trend.iter().map(|(w, v)| format!("{w} {}", v.percent())).collect::<Vec<_>>().join(", "))?;
    }
    s.write_str("  orphans: ")?;
    join_keys(a.orphans.iter().map(String::as_str), s)?;
    s.write_str("  cross-functional: ")?;
    join_keys(a.cross_functional.iter().map(String::as_str), s)?;
    s.write_str("  likely duplicates: ")?;
    if a.likely_duplicates.is_empty() {
        s.write_str("none\n")?;
    } else {
        for (i, (x, y)) in a.likely_duplicates.iter().enumerate() {
            if i > 0 {
                s.write_str(", ")?;
            }
            write!(s, "{x} ~ {y}")?;
        }
        s.write_str("\n")?;
    }
    writeln!(s, "\nIPO CHECKS")
}

pub fn incomplete_head(n: usize, s: &mut impl Write) -> std::fmt::Result {
    writeln!(s, "\nINCOMPLETE KPIs ({n})")
}

pub fn not_executable_head(n: usize, s: &mut impl Write) -> std::fmt::Result {
    writeln!(s, "\nOBJECTIVES NOT YET EXECUTABLE ({n})")
}

pub fn gaps_line(g: &Gaps, s: &mut impl Write) -> std::fmt::Result {
    writeln!(s, "  {:<6} missing {}", g.key, g.missing.join(", "))
}

pub fn funnel_head(s: &mut impl Write) -> std::fmt::Result {
    writeln!(s, "\nVALUE FUNNEL (net forecast by stage)")
}

pub fn funnel_line(f: &FunnelRow, s: &mut impl Write) -> std::fmt::Result {
    let stages: Vec<String> =
        f.by_stage.iter().filter(|(_, m)| !m.is_zero()).map(|(st, m)| format!("{} {}", st.short(), m.forecast.grouped())).collect();
    writeln!(s, "  {:<5} {:<36} total {}  [{}]", f.key, truncate(&f.title, 36), f.total.forecast.grouped(), stages.join("  "))?;
    if let Some(g) = &f.target_gap {
        writeln!(s, "        top-down target {}  bottom-up {}  gap {}", g.target.grouped(), g.bottom_up.grouped(), g.gap.grouped())?;
    }
    Ok(())
}

pub fn objective_target_line((k, g): &(String, TargetGap), s: &mut impl Write) -> std::fmt::Result {
    writeln!(s, "  {k:<5} objective target {}  bottom-up {}  gap {}", g.target.grouped(), g.bottom_up.grouped(), g.gap.grouped())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::check::{Alignment, StaleItem, StatusItem};

    fn report(title: &str) -> CheckReport {
        let status =
            |key: &str, status: &str| StatusItem { key: key.into(), title: title.into(), status: status.into(), detail: "why".into() };
        CheckReport {
            today: "2026-12-02".into(),
            escalations: vec![],
            escalations_by_tier: [0, 0, 0],
            stale: vec![StaleItem {
                key: "M-1".into(),
                title: title.into(),
                owner: None,
                owner_login: None,
                cadence: "weekly".into(),
                last_update: Some("2026-11-01T10:00:00Z".into()),
                days_since_update: Some(31),
            }],
            late_milestones: vec![],
            implementation: vec![status("M-2", "late"), status("M-3", "critical")],
            potential: vec![status("M-4", "red")],
            at_risk_key_results: vec![],
            green_without_explanation: vec![],
            alignment: Alignment {
                objectives: 0,
                cascaded: 0,
                cascade_share: None,
                ceiling: None,
                above_ceiling: false,
                trend: vec![],
                orphans: vec![],
                cross_functional: vec![],
                likely_duplicates: vec![],
            },
            outcome_only_objectives: vec![],
            isolated_kpis: vec!["K-1".into()],
            incomplete_kpis: vec![],
            not_executable: vec![],
            funnel: vec![],
            objective_targets: vec![],
            settings_errors: vec![],
            exit_code: 0,
        }
    }

    /// A writer that keeps every piece it is given, to show the rendering arrives in pieces.
    #[derive(Default)]
    struct Pieces(Vec<String>);

    impl Write for Pieces {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0.push(s.to_string());
            Ok(())
        }
    }

    #[test]
    fn printable_piece_by_piece_is_printable_of_the_whole() {
        let pieces = ["plain ", "\u{1b}[2J", "", " tab\tand\nnewline ", "bell\u{7}", "é"];
        let mut out = Printable(String::new());
        for p in pieces {
            out.write_str(p).unwrap();
        }
        assert_eq!(out.0, printable(pieces.concat()));
        assert_eq!(out.0, "plain \\u{1b}[2J tab\tand\nnewline bell\\u{7}é");
    }

    #[test]
    fn the_check_is_written_row_by_row_and_reads_as_one_string_would() {
        let r = report("Cut \u{1b}[2J costs");
        let mut pieces = Pieces::default();
        write_check(&r, &mut pieces).unwrap();
        assert!(pieces.0.len() > 10, "the rendering is handed on in many pieces, not one document");
        let whole = check(&r);
        assert_eq!(pieces.0.concat(), whole);
        assert!(whole.contains(
            "\nSTALE (no update within the cadence) (1)\n  M-1    Cut \\u{1b}[2J costs — owner —, last update 2026-11-01 (31 days, weekly)\n"
        ));
        assert!(whole.contains("\nIMPLEMENTATION (late or critical) (2)\n  M-2    late      Cut \\u{1b}[2J costs — why\n  M-3    critical"));
        assert!(whole.contains("\nPOTENTIAL (amber or red) (1)\n  M-4    red    Cut \\u{1b}[2J costs — why\n"));
        assert!(whole.contains("\nLATE MILESTONES (0)\n\nIMPLEMENTATION"));
        assert!(whole.contains("  isolated KPIs: K-1\n"));
        assert!(!whole.contains('\u{1b}'));
    }
}
