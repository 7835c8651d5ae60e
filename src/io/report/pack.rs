//! The steering pack (`keel report --summary`): the parts of the report a steering committee
//! reads first, a few pages whatever the size of the organisation.

use super::{
    escalations_section, funnel_section, heading_lines, money_heading, num, or_dash, potential, summary_section, tier, Measures, Pick, Sink,
};
use crate::store::check::StatusItem;
use crate::store::report::check_lists::Rows;
use crate::store::report::ReportModel;
use crate::store::report_size::Shortfalls;
use crate::store::Result;

/// The steering pack (`keel report --summary`): the summary, the open escalations, what is at
/// risk, the value funnel and the `top` measures furthest short of plan — a few pages at any size.
pub fn render_summary(r: &ReportModel, source: &str, top: usize, ms: &dyn Measures, out: &mut dyn Sink) -> Result<()> {
    let c = &r.check;
    out.heading(1, "Steering committee pack");
    heading_lines(r, source, out);
    summary_section(r, out);
    escalations_section(r, out)?;

    out.heading(2, "At risk");
    out.heading(3, &format!("Key results at risk ({})", c.at_risk_key_results.len()));
    if c.at_risk_key_results.is_empty() {
        out.muted("None.");
    } else {
        out.table(&["Key result", "Status", "Why"], &[], &c.at_risk_key_results.iter().map(item_cells).collect::<Vec<_>>());
    }
    spilled_items(out, "Measures late or critical", "Implementation", &c.implementation)?;
    spilled_items(out, "Measures with amber or red potential", "Potential", &c.potential)?;

    funnel_section(r, out);

    out.heading(2, &format!("Top {top} measures short of plan"));
    let mut shortfalls = Shortfalls::new(top);
    ms.each(r, Pick::All, &mut |m| {
        shortfalls.offer(m);
        Ok(())
    })?;
    let rows: Vec<Vec<String>> = shortfalls
        .finish()
        .iter()
        .map(|(m, short)| {
            vec![
                format!("{} {}", m.key, m.title),
                or_dash(m.owner.as_deref()),
                num(m.status.shown_money.planned),
                num(m.status.shown_money.forecast),
                short.grouped(),
                potential(m),
                m.tier.map(tier).unwrap_or_else(|| "—".into()),
            ]
        })
        .collect();
    if rows.is_empty() {
        out.muted("No measure's forecast is short of its plan.");
    } else {
        let cur = r.currency.as_deref();
        let h = [money_heading("Planned", cur), money_heading("Forecast", cur), money_heading("Short by", cur)];
        out.table(&["Measure", "Owner", h[0].as_str(), h[1].as_str(), h[2].as_str(), "Potential", "Escalation"], &[2, 3, 4], &rows);
    }
    Ok(())
}

/// A status item's cells: the item, its status, why.
fn item_cells(s: &StatusItem) -> Vec<String> {
    vec![format!("{} {}", s.key, s.title), s.status.clone(), s.detail.clone()]
}

/// A measures section of the pack read from the check's spilled list: its title with the count,
/// then the rows as they are read back, or "None.".
fn spilled_items(out: &mut dyn Sink, title: &str, status: &str, list: &Rows<StatusItem>) -> Result<()> {
    out.heading(3, &format!("{title} ({})", list.len()));
    if list.is_empty() {
        out.muted("None.");
        return Ok(());
    }
    out.table_start(&["Measure", status, "Why"], &[]);
    list.each(&mut |s| {
        out.table_row(&[], &item_cells(&s));
        Ok(())
    })?;
    out.table_end();
    Ok(())
}
