//! Reading an item's text fields whole: the detail pane gives each field one line, cut with
//! "…"; here every text field, the decisions and the escalation's reason wrap in full and scroll.

use super::super::action::Action;
use super::super::app::App;
use super::Mode;
use crate::store::read::Detail;

pub struct Reader {
    pub title: String,
    /// Each part's heading and its text.
    pub parts: Vec<(String, String)>,
    pub scroll: u16,
    /// The most the text can scroll at the last frame (it stops at its end).
    pub max_scroll: u16,
}

/// The parts worth reading whole: every free-text field with text, the escalation, the
/// milestones and the decisions (references, numbers and dates read fine in the pane).
pub fn parts(d: &Detail) -> Vec<(String, String)> {
    let kind = crate::domain::ItemKey::parse(&d.key).ok().map(|k| k.kind);
    let prose = |name: &str| {
        kind.and_then(|k| crate::store::fields::find(k, name)).is_none_or(|f| matches!(f.ty, crate::store::fields::FieldType::Text))
    };
    let mut out = Vec::new();
    if let Some(e) = &d.escalation {
        out.push((format!("escalation: {}", e.tier_label), e.reason.clone()));
        if let Some(x) = &e.decision {
            out.push(("escalation decision".into(), x.clone()));
        }
    }
    for f in d.fields.iter().filter(|f| prose(f.name)) {
        if let Some(v) = f.value.as_ref().filter(|v| !v.trim().is_empty()) {
            out.push((f.name.replace('_', " "), v.clone()));
        }
    }
    for m in &d.milestones {
        out.push((format!("milestone {} (due {})", m.number, m.due), m.title.clone()));
    }
    for x in &d.decisions {
        out.push((format!("decision of {} by {}", x.at.get(..10).unwrap_or(&x.at), x.by), x.text.clone()));
    }
    out
}

/// Open the reader on the item the detail pane shows.
pub fn open(app: &mut App) -> anyhow::Result<()> {
    let Some(d) = app.detail_now()? else {
        app.warn("select an item first");
        return Ok(());
    };
    let title = format!("{} {}", d.key, d.title);
    let parts = parts(d);
    app.mode = Mode::Reader(Reader { title, parts, scroll: 0, max_scroll: u16::MAX });
    Ok(())
}

pub fn handle_key(app: &mut App, mut r: Reader, action: Option<Action>) {
    let page = app.size.height.saturating_sub(8).max(1);
    match action {
        Some(Action::Close) => return,
        Some(Action::Down) => r.scroll = r.scroll.saturating_add(1),
        Some(Action::Up) => r.scroll = r.scroll.saturating_sub(1),
        Some(Action::PageDown) => r.scroll = r.scroll.saturating_add(page),
        Some(Action::PageUp) => r.scroll = r.scroll.saturating_sub(page),
        _ => {}
    }
    r.scroll = r.scroll.min(r.max_scroll);
    app.mode = Mode::Reader(r);
}
